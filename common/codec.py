"""A JSON codec for Eddy's frozen dataclasses, enums and values.

Meta persists catalog entries and fragment graphs with it; in cluster mode
the same messages cross the network with it. Classes are found by name in
a registry filled from the `common` modules (and `register` for others).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import importlib
import json
import math
import threading
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from common.vnode import VnodeBitmap

_REGISTRY: dict[str, type] = {}
_MODULES = ("common.types", "common.catalog", "common.expr", "common.stream_plan", "common.batch_plan", "common.message",
            "common.rpc", "common.epoch", "common.pgtext", "common.user")
_loaded = False


def register(cls: type) -> type:
    _REGISTRY[cls.__name__] = cls
    return cls


_LOAD_LOCK = threading.Lock()


def _load() -> None:
    """Fill the registry from the `common` modules, once.

    Under a lock: RPC threads decode concurrently, and two threads importing
    the same modules at once can deadlock on Python's import locks. Processes
    call `preload()` at start so no RPC thread ever imports.
    """
    global _loaded
    if _loaded:
        return
    with _LOAD_LOCK:
        if _loaded:
            return
        for name in _MODULES:
            mod = importlib.import_module(name)
            for obj in vars(mod).values():
                if isinstance(obj, type) and obj.__module__ == name and (
                        dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)):
                    _REGISTRY.setdefault(obj.__name__, obj)
        _loaded = True


def preload() -> None:
    _load()


def to_json(obj: Any) -> Any:
    """A JSON-able structure for `obj`."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and not isinstance(obj, enum.Enum):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"@f": repr(obj)}
    if isinstance(obj, enum.Enum):
        return {"@e": type(obj).__name__, "v": obj.value}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"@c": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = to_json(getattr(obj, f.name))
        return out
    if isinstance(obj, pa.MonthDayNano):  # a tuple subclass: test it first
        return {"@mdn": [obj.months, obj.days, obj.nanoseconds]}
    if isinstance(obj, tuple):
        return {"@t": [to_json(x) for x in obj]}
    if isinstance(obj, list):
        return [to_json(x) for x in obj]
    if isinstance(obj, dict):
        return {"@d": [[to_json(k), to_json(v)] for k, v in obj.items()]}
    if isinstance(obj, (bytes, bytearray)):
        return {"@b": base64.b64encode(bytes(obj)).decode()}
    if isinstance(obj, Decimal):
        return {"@dec": str(obj)}
    if isinstance(obj, datetime.datetime):
        return {"@dt": obj.isoformat()}
    if isinstance(obj, datetime.date):
        return {"@date": obj.isoformat()}
    if isinstance(obj, VnodeBitmap):
        return {"@vb": base64.b64encode(np.packbits(obj.mask).tobytes()).decode()}
    if isinstance(obj, (frozenset, set)):
        return {"@s": [to_json(x) for x in sorted(obj)]}
    raise TypeError(f"cannot encode {type(obj).__name__}")


def from_json(data: Any) -> Any:
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_json(x) for x in data]
    _load()
    if "@c" in data:
        cls = _REGISTRY[data["@c"]]
        kwargs = {k: from_json(v) for k, v in data.items() if k != "@c"}
        return cls(**kwargs)
    if "@t" in data:
        return tuple(from_json(x) for x in data["@t"])
    if "@e" in data:
        return _REGISTRY[data["@e"]](data["v"])  # type: ignore[call-arg]
    if "@d" in data:
        return {from_json(k): from_json(v) for k, v in data["@d"]}
    if "@b" in data:
        return base64.b64decode(data["@b"])
    if "@dec" in data:
        return Decimal(data["@dec"])
    if "@dt" in data:
        return datetime.datetime.fromisoformat(data["@dt"])
    if "@date" in data:
        return datetime.date.fromisoformat(data["@date"])
    if "@mdn" in data:
        return pa.MonthDayNano(data["@mdn"])
    if "@vb" in data:
        bits = np.unpackbits(np.frombuffer(base64.b64decode(data["@vb"]), dtype=np.uint8)).astype(bool)
        return VnodeBitmap.from_mask(bits)
    if "@f" in data:
        return float(data["@f"])
    if "@s" in data:
        return frozenset(from_json(x) for x in data["@s"])
    raise ValueError(f"cannot decode {data!r}")


def dumps(obj: Any) -> str:
    return json.dumps(to_json(obj), separators=(",", ":"))


def loads(text: str) -> Any:
    return from_json(json.loads(text))
