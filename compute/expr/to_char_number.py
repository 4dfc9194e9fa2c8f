"""to_char for numbers: a port of PostgreSQL's NUM_processor (the output direction) from formatting.c.

Supports 9, 0, '.', D, ',', G, S, MI, PL, SG, PR, FM, EEEE, TH/th and
literal text, with PostgreSQL's blank and sign placement and '#' fill on
overflow. Runs once per distinct (value, format) pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pyarrow as pa

from common.errors import SyntaxError_
from common.types import DataType, TypeName
from compute.expr.kernel import per_distinct

_KEYWORDS = sorted([",", ".", "0", "9", "D", "EEEE", "FM", "G", "MI", "PL", "PR", "S", "SG", "TH", "th"],
                   key=len, reverse=True)
_DBL_DIG = 15
_FLT_DIG = 6


@dataclass(slots=True)
class _Desc:
    pre: int = 0
    post: int = 0
    decimal: bool = False
    zero: bool = False
    zero_start: int = 0
    zero_end: int = 0
    fill: bool = False
    lsign: str = ""  # "", "pre" or "post"
    pre_lsign_num: int = 0
    minus: bool = False
    plus: bool = False
    bracket: bool = False
    eeee: bool = False
    nodes: list[str | tuple[str]] = field(default_factory=list)


def _parse(fmt: str) -> _Desc:
    d = _Desc()
    i = 0
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            d.nodes.extend(fmt[i + 1:end])
            i = end + 1
            continue
        key = next((k for k in _KEYWORDS if fmt.startswith(k, i) or (fmt[i:i + len(k)].upper() == k
                    and k.isalpha() and k not in ("TH", "th"))), None)
        if key is None:
            d.nodes.append(fmt[i])
            i += 1
            continue
        i += len(key)
        k = key if key in ("TH", "th") else key.upper()
        d.nodes.append((k,))
        if k == "9" or k == "0":
            if k == "0" and not d.zero and not d.decimal:
                d.zero, d.zero_start = True, d.pre + 1
            if d.decimal:
                d.post += 1
            else:
                d.pre += 1
            if k == "0":
                d.zero_end = d.pre + d.post
        elif k in (".", "D"):
            if d.decimal:
                raise SyntaxError_("multiple decimal points")
            d.decimal = True
        elif k == "FM":
            d.fill = True
        elif k == "S":
            if d.lsign:
                raise SyntaxError_('cannot use "S" twice')
            if not d.decimal:
                d.lsign, d.pre_lsign_num = "pre", d.pre
            else:
                d.lsign = "post"
        elif k == "MI":
            d.minus = True
        elif k == "PL":
            d.plus = True
        elif k == "SG":
            d.minus = d.plus = True
        elif k == "PR":
            d.bracket = True
        elif k == "EEEE":
            d.eeee = True
    return d


def _number_text(value: object, t: DataType, d: _Desc) -> tuple[str, str, int]:
    """(digits with '.', sign, out_pre_spaces) as PostgreSQL's *_to_char prepare them.

    For floats this also cuts `d.post` to the digits a float carries, as
    float8_to_char does to its format description.
    """
    post = d.post
    if t.is_float:
        v = float(value)  # type: ignore[arg-type]
        whole = f"{abs(v):.0f}"
        max_digits = _DBL_DIG if t.name is TypeName.DOUBLE else _FLT_DIG
        if len(whole) >= max_digits:
            post = 0
        elif len(whole) + post > max_digits:
            post = max_digits - len(whole)
        d.post = post
        text = f"{v:.{post}f}"
    elif t.is_integer:
        text = str(value)
        if post:
            text += "." + "0" * post
    else:
        dec = Decimal(value).quantize(Decimal(1).scaleb(-post), rounding=ROUND_HALF_UP)  # type: ignore[arg-type]
        text = f"{abs(dec) if dec == 0 else dec:f}"
    sign = "-" if text.startswith("-") else "+"
    digits = text.lstrip("-")
    pre_len = digits.find(".") if "." in digits else len(digits)
    if pre_len < d.pre:
        return digits, sign, d.pre - pre_len
    if pre_len > d.pre:
        return "#" * d.pre + "." + "#" * d.post, sign, 0
    return digits, sign, 0


def _eeee(value: object, t: DataType, d: _Desc) -> str:
    v = float(value) if t.is_float else Decimal(value)  # type: ignore[arg-type]
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return "#" * (d.pre + d.post + 6)
    with localcontext() as c:
        c.rounding = ROUND_HALF_UP  # numeric_out_sci rounds half away from zero; floats go through printf
        text = f"{float(v) if v == 0 else v:.{d.post}e}"
    mantissa, exp = text.split("e")
    text = f"{mantissa}e{exp[0]}{int(exp[1:]):02d}"
    return text if text.startswith("-") else " " + text


def _ordinal(digits: str, upper: bool) -> str:
    n = int(digits.split(".")[0] or 0)
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return suffix.upper() if upper else suffix


def format_number(value: object, t: DataType, fmt: str) -> str:
    d = _parse(fmt)
    if d.eeee:
        return _eeee(value, t, d)
    number, sign, out_pre_spaces = _number_text(value, t, d)
    return _Processor(d, number, sign, out_pre_spaces).run()


class _Processor:
    """NUM_processor's state while writing one number."""

    def __init__(self, d: _Desc, number: str, sign: str, out_pre_spaces: int) -> None:
        self.d = d
        self.number = number
        self.pos = 0  # index into number (PostgreSQL's number_p)
        self.sign = sign
        self.out: list[str] = []
        self.num_in = False
        self.num_curr = 0
        self.out_pre_spaces = out_pre_spaces
        self.zero_start = d.zero_start - 1 if d.zero_start else 0
        self.bracket = d.bracket
        self.lsign = d.lsign
        if d.plus or d.minus:
            self.sign_wrote = not (d.plus and not d.minus)
        else:
            if sign != "-" and d.fill:
                self.bracket = False
            self.sign_wrote = sign == "+" and d.fill and not d.lsign
            if self.lsign == "pre" and d.pre == d.pre_lsign_num:
                self.lsign = "post"
        self.num_count = d.post + d.pre - 1
        self.last_relevant: int | None = None
        if d.fill and d.decimal:
            self.last_relevant = self._last_relevant_decnum()
            if self.last_relevant is not None and d.zero_end > out_pre_spaces:
                last_zero = min(len(number) - 1, d.zero_end - out_pre_spaces)
                self.last_relevant = max(self.last_relevant, last_zero)
        if not self.sign_wrote and out_pre_spaces == 0:
            self.num_count += 1

    def _last_relevant_decnum(self) -> int | None:
        dot = self.number.find(".")
        if dot < 0:
            return None
        result = dot
        for i in range(dot + 1, len(self.number)):
            if self.number[i] != "0":
                result = i
        return result

    def _char(self, i: int | None) -> str:
        return self.number[i] if i is not None and i < len(self.number) else ""

    def _predec_space(self) -> bool:
        return (not self.d.zero and self.pos == 0 and self.number[:1] == "0" and self.d.post != 0)

    def run(self) -> str:
        for node in self.d.nodes:
            if isinstance(node, str):
                self.out.append(node)
                continue
            key = node[0]
            if key in ("9", "0", ".", "D"):
                self._numpart(key)
            elif key in (",", "G"):
                if self.num_in:
                    self.out.append(",")
                elif not self.d.fill:
                    self.out.append(" ")
            elif key in ("TH", "th"):
                if not (self.number.startswith("#") or self.sign == "-" or self.d.decimal):
                    self.out.append(_ordinal(self.number, key == "TH"))
            elif key == "MI":
                if self.sign == "-":
                    self.out.append("-")
                elif not self.d.fill:
                    self.out.append(" ")
            elif key == "PL":
                if self.sign == "+":
                    self.out.append("+")
                elif not self.d.fill:
                    self.out.append(" ")
            elif key == "SG":
                self.out.append(self.sign)
        return "".join(self.out).split("\0")[0]

    def _numpart(self, key: str) -> None:
        d = self.d
        self.num_in = False
        last_is_dot = self._char(self.last_relevant) == "."
        if (not self.sign_wrote
                and (self.num_curr >= self.out_pre_spaces or (d.zero and self.zero_start == self.num_curr))
                and (not self._predec_space() or last_is_dot)):
            if self.lsign:
                if self.lsign == "pre":
                    self.out.append(self.sign)
                    self.sign_wrote = True
            elif self.bracket:
                self.out.append(" " if self.sign == "+" else "<")
                self.sign_wrote = True
            elif self.sign == "+":
                if not d.fill:
                    self.out.append(" ")
                self.sign_wrote = True
            else:
                self.out.append("-")
                self.sign_wrote = True
        if self.num_curr < self.out_pre_spaces and (self.zero_start > self.num_curr or not d.zero):
            if not d.fill:
                self.out.append(" ")
        elif d.zero and self.num_curr < self.out_pre_spaces and self.zero_start <= self.num_curr:
            self.out.append("0")
            self.num_in = True
        else:
            current = self._char(self.pos)
            if current == ".":
                if not last_is_dot or d.fill:
                    self.out.append(".")
            elif self.last_relevant is not None and self.pos > self.last_relevant and key != "0":
                pass
            elif self._predec_space():
                if not d.fill:
                    self.out.append(" ")
                elif last_is_dot:
                    self.out.append("0")
            else:
                # Past the end of the digits C writes the string's terminating NUL, which ends the output.
                self.out.append(current or "\0")
                self.num_in = True
            if self.pos < len(self.number):
                self.pos += 1
        end = self.num_count + (1 if self.out_pre_spaces else 0) + (1 if d.decimal else 0)
        if self.last_relevant is not None and self.last_relevant == self.pos:
            end = self.num_curr
        if self.num_curr + 1 == end:
            if self.sign_wrote and self.bracket:
                self.out.append(" " if self.sign == "+" else ">")
            elif self.lsign == "post":
                self.out.append(self.sign)
        self.num_curr += 1


def to_char_number(source: pa.Array, fmt: pa.Array, t: DataType) -> pa.Array:
    def render(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        value, template = key
        return pa.repeat(pa.scalar(format_number(value, t, str(template))), len(rows))

    return per_distinct([source, fmt], len(source), render, pa.string())
