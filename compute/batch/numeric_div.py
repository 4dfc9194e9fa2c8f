"""NUMERIC averages: sum / count with PostgreSQL's choice of result scale, vectorized.

PostgreSQL's numeric division (select_div_scale) keeps at least 16
significant digits: the result scale is 16 minus four times the estimated
weight (in base-10000 digits) of the quotient, and never less than the
dividend's scale. So avg over large integers has fewer fractional digits
(avg(1999999999999, 0, 0...) has 8), which changes how it rounds. Eddy's
NUMERIC stores 10 fractional digits, so the quotient is rounded, half away
from zero, to the smaller of the two scales and then stored at 10.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from compute.batch.arrays import cast_array

_MIN_SIG_DIGITS = 16
_DEC_DIGITS = 4  # decimal digits per base-10000 digit of PostgreSQL's numeric
# Wide enough that sum / count keeps 20 more fractional digits than the sum.
_NUMERATOR_PRECISION = 56
_DENOMINATOR = pa.decimal256(19, 0)


def decimal_avg(sums: pa.Array, counts: np.ndarray, out: pa.DataType) -> pa.Array:
    """`sums / counts` per row as `out` (a decimal type); `counts` are positive, NULL sums stay NULL.

    Arrow's decimal division truncates; it keeps 20 extra fractional digits
    here, and truncating then rounding at the first dropped digit gives the
    correctly rounded quotient.
    """
    if pa.types.is_integer(sums.type):
        sums = sums.cast(pa.decimal128(38, 0))
    scale = sums.type.scale
    numerator = sums.cast(pa.decimal256(_NUMERATOR_PRECISION, scale))
    quotient = pc.divide(numerator, pa.array(counts, pa.int64()).cast(_DENOMINATOR))
    scales = np.minimum(_result_scales(sums, counts, scale), out.scale)
    rounded = quotient
    for s in np.unique(scales):
        if s < out.scale:
            rows = pa.array(scales == s)
            rounded = pc.if_else(rows, pc.round(quotient, int(s), round_mode="half_towards_infinity"), rounded)
    return cast_array(rounded, out)


def _result_scales(sums: pa.Array, counts: np.ndarray, sum_scale: int) -> np.ndarray:
    """select_div_scale(sum, count) per row, from each operand's base-10000 weight and first digit."""
    scales = np.full(len(counts), _MIN_SIG_DIGITS, np.int64)
    integer_part = pc.abs(sums).cast(pa.decimal128(38, 0), safe=False).cast(pa.string()).fill_null("0")
    digits = pc.utf8_length(integer_part).to_numpy(zero_copy_only=False).astype(np.int64)
    # Below 10000^2 the quotient's weight is at most 1, leaving at least 12 digits: more than stored.
    big = digits > 2 * _DEC_DIGITS
    if not big.any():
        return np.maximum(scales, sum_scale)
    weight1 = (digits - 1) // _DEC_DIGITS
    lead = (digits - 1) % _DEC_DIGITS + 1
    first1 = np.zeros(len(counts), np.int64)
    for k in range(1, _DEC_DIGITS + 1):
        head = pc.utf8_slice_codeunits(integer_part, 0, k).cast(pa.int64()).to_numpy(zero_copy_only=False)
        first1 = np.where(lead == k, head, first1)
    weight2 = sum((counts >= 10_000**k).astype(np.int64) for k in range(1, 5))
    first2 = counts // np.power(np.int64(10_000), weight2)
    qweight = weight1 - weight2 - (first1 <= first2)
    scales = np.where(big, _MIN_SIG_DIGITS - qweight * _DEC_DIGITS, scales)
    return np.maximum(scales, max(sum_scale, 0))
