"""Session variables: defaults, validation, aliases, and which ones are reported to the client.

`SET` changes one for the session; `RESET` restores its default; `SHOW`
reads it. Reported parameters (ParameterStatus) are re-sent when they change.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from common.errors import InvalidParameterValue, UndefinedObject
from common.pgtext import FormatOptions

SERVER_VERSION = "13.14.0"
SERVER_VERSION_NUM = "130014"


def _bool(v: str) -> str:
    s = v.strip().lower()
    if s in ("on", "true", "t", "yes", "y", "1"):
        return "on"
    if s in ("off", "false", "f", "no", "n", "0"):
        return "off"
    raise InvalidParameterValue(f'parameter requires a Boolean value, got "{v}"')


def _int(lo: int, hi: int) -> Callable[[str], str]:
    def check(v: str) -> str:
        try:
            n = int(v.strip())
        except ValueError:
            raise InvalidParameterValue(f'invalid value for parameter: "{v}"') from None
        if not lo <= n <= hi:
            raise InvalidParameterValue(f"{n} is outside the valid range for parameter ({lo} .. {hi})")
        return str(n)
    return check


def _timezone(v: str) -> str:
    s = v.strip()
    if s.upper() in ("UTC", "GMT", "Z", "ETC/UTC"):
        return "UTC" if s.upper() != "ETC/UTC" else "Etc/UTC"
    if s.lower() == "local":
        return "UTC"
    try:
        zoneinfo.ZoneInfo(s)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidParameterValue(f'invalid value for parameter "TimeZone": "{v}"') from None
    return s


def _datestyle(v: str) -> str:
    parts = [p.strip().upper() for p in v.replace(" ", ",").split(",") if p.strip()]
    style = next((p for p in parts if p in ("ISO", "POSTGRES", "SQL", "GERMAN")), "ISO")
    order = next((p for p in parts if p in ("MDY", "DMY", "YMD", "US", "EUROPEAN", "NONEURO")), "MDY")
    order = {"US": "MDY", "NONEURO": "MDY", "EUROPEAN": "DMY"}.get(order, order)
    if style != "ISO":
        raise InvalidParameterValue(f'DateStyle "{style}" is not supported; use ISO')
    return f"{style.title() if style != 'ISO' else 'ISO'}, {order}"


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(v: str) -> str:
        s = v.strip().lower()
        if s not in allowed:
            raise InvalidParameterValue(f'invalid value for parameter: "{v}"', hint="Available values: "
                                        + ", ".join(allowed) + ".")
        return s
    return check


def _any(v: str) -> str:
    return v


def _rate_limit(v: str) -> str:
    n = _int(-1, 2**31 - 1)(v)
    if n == "0":
        raise InvalidParameterValue("backfill_rate_limit must be positive (rows per second per actor) or -1 (no limit)")
    return n


def _parallelism(v: str) -> str:
    s = v.strip().lower()
    if s in ("default", "adaptive", "0"):
        return "default"
    return _int(1, 1024)(s)


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    default: str
    check: Callable[[str], str]
    reported: bool = False
    read_only: bool = False
    description: str = ""


VARS: dict[str, Var] = {v.name: v for v in (
    Var("implicit_flush", "off", _bool, description="every DML statement returns after its epoch is committed"),
    Var("streaming_parallelism", "default", _parallelism, description="parallelism of new streaming jobs"),
    Var("backfill_rate_limit", "-1", _rate_limit,
        description="rows per second each actor of a new view reads from its inputs' existing rows (-1: no limit)"),
    Var("application_name", "", _any, reported=True),
    Var("client_encoding", "UTF8", _choice("utf8", "utf-8", "unicode"), reported=True),
    Var("DateStyle", "ISO, MDY", _datestyle, reported=True),
    Var("IntervalStyle", "postgres", _choice("postgres"), reported=True),
    Var("TimeZone", "UTC", _timezone, reported=True),
    Var("extra_float_digits", "1", _int(-15, 3)),
    Var("search_path", '"$user", public', _any),
    Var("statement_timeout", "0", _any),
    Var("lock_timeout", "0", _any),
    Var("idle_in_transaction_session_timeout", "0", _any),
    Var("client_min_messages", "notice", _choice("debug5", "debug4", "debug3", "debug2", "debug1", "debug",
                                                  "log", "notice", "warning", "error")),
    Var("bytea_output", "hex", _choice("hex", "escape")),
    Var("default_transaction_isolation", "read committed",
        _choice("read committed", "repeatable read", "serializable", "read uncommitted")),
    Var("transaction_isolation", "read committed", _any, read_only=True),
    Var("transaction_read_only", "off", _bool, read_only=True),
    Var("default_transaction_read_only", "off", _bool, reported=True),
    Var("in_hot_standby", "off", _any, reported=True, read_only=True),
    Var("password_encryption", "scram-sha-256", _choice("scram-sha-256", "md5"),
        description="how CREATE and ALTER USER store passwords"),
    Var("standard_conforming_strings", "on", _choice("on"), reported=True),
    Var("server_version", SERVER_VERSION, _any, reported=True, read_only=True),
    Var("server_version_num", SERVER_VERSION_NUM, _any, read_only=True),
    Var("server_encoding", "UTF8", _any, reported=True, read_only=True),
    Var("integer_datetimes", "on", _any, reported=True, read_only=True),
    Var("is_superuser", "on", _any, reported=True, read_only=True),
    Var("session_authorization", "root", _any, reported=True, read_only=True),
    Var("max_identifier_length", "63", _any, read_only=True),
    Var("jit", "off", _bool),
    Var("synchronize_seqscans", "on", _bool),
    Var("row_security", "on", _bool),
    # -- settings client introspection reads (issue 4): fixed facts of the server, shown by SHOW,
    # current_setting() and pg_settings.
    Var("default_table_access_method", "heap", _any, read_only=True),
    Var("max_index_keys", "32", _any, read_only=True),
    Var("max_function_args", "100", _any, read_only=True),
    Var("block_size", "8192", _any, read_only=True),
    Var("max_connections", "100", _any, read_only=True),
    Var("lc_collate", "C", _any, read_only=True),
    Var("lc_ctype", "C", _any, read_only=True),
    Var("lc_messages", "C", _any),
    Var("lc_monetary", "C", _any),
    Var("lc_numeric", "C", _any),
    Var("lc_time", "C", _any),
    Var("default_tablespace", "", _any),
    Var("ssl", "off", _any, read_only=True),
    Var("timezone_abbreviations", "Default", _any),
)}

ALIASES = {"rw_implicit_flush": "implicit_flush", "time zone": "TimeZone", "timezone": "TimeZone",
           "datestyle": "DateStyle", "intervalstyle": "IntervalStyle"}
_BY_LOWER = {name.lower(): name for name in VARS}


def canonical(name: str) -> str:
    n = ALIASES.get(name.lower(), name)
    found = _BY_LOWER.get(n.lower())
    if found is None:
        raise UndefinedObject(f'unrecognized configuration parameter "{name}"')
    return found


class SessionVariables:
    def __init__(self, startup: dict[str, str] | None = None) -> None:
        self._values = {name: v.default for name, v in VARS.items()}
        self._changed: set[str] = set()
        for k, v in (startup or {}).items():
            try:
                name = canonical(k)
                if not VARS[name].read_only:
                    self._values[name] = VARS[name].check(v)
            except (UndefinedObject, InvalidParameterValue):
                pass
        self._changed.clear()

    def get(self, name: str) -> str:
        return self._values[canonical(name)]

    def set_identity(self, user: str, superuser: bool) -> None:
        """The session's user, as `session_authorization` and `is_superuser` report it."""
        self._values["session_authorization"] = user
        self._values["is_superuser"] = "on" if superuser else "off"

    def set(self, name: str, value: str | None) -> None:
        key = canonical(name)
        var = VARS[key]
        if var.read_only:
            if key in ("transaction_isolation", "transaction_read_only"):
                return  # set through SET TRANSACTION; accepted for drivers that send it
            raise InvalidParameterValue(f'parameter "{key}" cannot be changed')
        new = var.default if value is None else var.check(value)
        if new != self._values[key]:
            self._values[key] = new
            if var.reported:
                self._changed.add(key)

    def reset_all(self) -> None:
        for name, var in VARS.items():
            if not var.read_only:
                self.set(name, None)

    def reported(self) -> dict[str, str]:
        return {name: self._values[name] for name, v in VARS.items() if v.reported}

    def take_changed(self) -> dict[str, str]:
        out = {k: self._values[k] for k in sorted(self._changed)}
        self._changed.clear()
        return out

    def all(self) -> list[tuple[str, str, str]]:
        return [(name, self._values[name], v.description) for name, v in sorted(VARS.items(), key=lambda x: x[0].lower())]

    @property
    def implicit_flush(self) -> bool:
        return self._values["implicit_flush"] == "on"

    @property
    def parallelism(self) -> int | None:
        v = self._values["streaming_parallelism"]
        return None if v == "default" else int(v)

    @property
    def backfill_rate_limit(self) -> int | None:
        n = int(self._values["backfill_rate_limit"])
        return None if n < 0 else n

    def format_options(self) -> FormatOptions:
        return FormatOptions(timezone=self._values["TimeZone"], datestyle=self._values["DateStyle"],
                             intervalstyle=self._values["IntervalStyle"],
                             extra_float_digits=int(self._values["extra_float_digits"]))
