"""The broker profile: the facts about a firm that decide which requirements bind it."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .dates import DateParseError, parse_date


class ProfileError(ValueError):
    """A profile is unusable; the message names the file and the field."""


_UNITS = {"億": 100_000_000, "萬": 10_000, "千": 1_000}
_MAX_CAPITAL = 10**18  # NTD; far beyond any firm, small enough to keep amounts exact


def parse_capital(value: Any, *, field: str = "capital") -> int:
    """NTD amounts as written: 25000000000, 25,000,000,000, 250億, 2.5e10, NT$250億元, 4千萬."""
    if isinstance(value, bool):
        raise ProfileError(f"{field}: expected an amount in NTD, got {value!r}")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ProfileError(f"{field}: {value!r} is not an amount")
        amount = round(value)
    else:
        s = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
        s = re.sub(r"^(NT\$|NTD|新台幣|新臺幣)", "", s, flags=re.I)
        s = re.sub(r"(元|NTD)$", "", s, flags=re.I)
        m = re.fullmatch(r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)((?:[千萬億])*)", s)
        if not m:
            raise ProfileError(
                f"{field}: {value!r} is not an amount; expected e.g. 25000000000, 25,000,000,000, 250億 or 2.5e10"
            )
        # Decimal, not float: 230億 and 25,000,000,000 stay exact, and 1e999 is no infinity.
        amount_d = Decimal(m[1])
        if amount_d and amount_d.adjusted() > 18:
            raise ProfileError(f"{field}: {value!r} is not a plausible amount (over {_MAX_CAPITAL:.0e} NTD)")
        for unit in m[2]:
            amount_d *= _UNITS[unit]
        amount = int(amount_d.to_integral_value(rounding=ROUND_HALF_EVEN))
    if amount < 0:
        raise ProfileError(f"{field}: capital cannot be negative ({value!r})")
    if amount > _MAX_CAPITAL:
        raise ProfileError(f"{field}: {value!r} is not a plausible amount (over {_MAX_CAPITAL:.0e} NTD)")
    return amount


def recurring_duty_ids() -> set[str]:
    """The ids `last_performed` may name: the catalog's recurring duties."""
    from ccinspect.catalog import load_catalog

    return {d.id for d in load_catalog().recurring.duties}


def _shown(name: Any) -> str:
    """A field name for messages; repr() when it holds control characters (one problem per line)."""
    return str(name) if str(name).isprintable() else repr(name)


def _percent(value: Any, field: str) -> float | None:
    if value is None:
        return None
    s = str(value).strip()
    try:
        v = float(s.rstrip("%"))
    except ValueError:
        raise ProfileError(f"{field}: {value!r} is not a percentage (0–100)") from None
    if not 0 <= v <= 100:
        raise ProfileError(f"{field}: {value!r} is outside 0–100%")
    return v


class BrokerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "Broker"
    # required: a missing capital gets the validator's message (validate_default), not pydantic's
    capital: int = Field(None, validate_default=True, description="paid-in capital or allocated operating capital, NTD")
    internet_orders: bool = True  # 網際網路下單
    voice_orders: bool = False  # 語音下單
    traditional_orders: bool = True  # 傳統下單
    securities_brokerage: bool = True  # 經紀商
    api_ordering: bool = False
    mobile_app: bool = False
    cloud_user: bool = False
    cloud_provider: bool = False
    official_social_media: bool = False
    iot_devices: bool = False
    public_company: bool = False  # 公開發行
    public_network_terminals: bool = False  # pre-2020 text: auction terminals on the public network
    e_trading_share: float | None = None  # % of the broker's trading done electronically
    brokerage_market_share: float | None = None  # %
    natural_person_client_ratio: float | None = None  # %
    fiscal_year_end: str = "12-31"  # MM-DD
    last_performed: dict[str, dt.date] = Field(default_factory=dict)  # recurring duty id -> last date

    @field_validator("capital", mode="before")
    @classmethod
    def _capital(cls, v: Any) -> int:
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ValueError("missing; expected the paid-in (or allocated operating) capital in NTD, e.g. 250億")
        try:
            amount = parse_capital(v)
        except ProfileError as exc:
            raise ValueError(str(exc).split(": ", 1)[1]) from None
        if amount == 0:  # would fall in the lowest tier silently; no broker has no capital
            raise ValueError(f"{v!r} is zero; expected the paid-in (or allocated operating) capital in NTD, "
                             "more than 0 (e.g. 250億)")
        return amount

    @field_validator("e_trading_share", "brokerage_market_share", "natural_person_client_ratio", mode="before")
    @classmethod
    def _pct(cls, v: Any, info) -> float | None:
        try:
            return _percent(v, info.field_name)
        except ProfileError as exc:
            raise ValueError(str(exc).split(": ", 1)[1]) from None

    @field_validator("fiscal_year_end")
    @classmethod
    def _fye(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(v).strip())
        if not m:
            raise ValueError(f"{v!r} is not MM-DD (e.g. 12-31)")
        try:
            dt.date(2001, int(m[1]), int(m[2]))  # a non-leap year: 02-29 is no fiscal year end
        except ValueError:
            raise ValueError(f"{v!r} is not a day of the year") from None
        return f"{int(m[1]):02d}-{int(m[2]):02d}"

    @field_validator("last_performed", mode="before")
    @classmethod
    def _last(cls, v: Any) -> dict:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError("expected a mapping of duty id to date")
        try:
            out = {str(k): parse_date(d, field=f"last_performed.{_shown(k)}") for k, d in v.items()}
        except DateParseError as exc:
            raise ValueError(str(exc)) from None
        known = recurring_duty_ids()
        unknown = sorted(k for k in out if k not in known)
        if unknown:
            raise ValueError(f"unknown duty id {', '.join(map(repr, unknown))}; expected one of "
                             f"{', '.join(sorted(known))}")
        today = dt.date.today()
        future = {k: d for k, d in out.items() if d > today}
        if future:  # would push the next due date past any calendar and drop the duty from it
            k, d = sorted(future.items())[0]
            raise ValueError(f"{_shown(k)}: {d.isoformat()} is in the future; expected the date "
                             f"the duty was last done (on or before {today.isoformat()})")
        return out

    def fiscal_year_end_date(self, year: int) -> dt.date:
        m, d = (int(x) for x in self.fiscal_year_end.split("-"))
        return dt.date(year, m, d)

    def flag(self, name: str) -> bool:
        value = getattr(self, name)
        return bool(value)


def _explain(exc: ValidationError, where: str) -> ProfileError:
    parts = []
    for err in exc.errors():
        loc = ".".join(_shown(p) for p in err["loc"]) or "(profile)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown field (known fields: {', '.join(BrokerProfile.model_fields)})"
        parts.append(f"{where}: field '{loc}': {msg}")
    return ProfileError("\n".join(parts))


def profile_from_mapping(data: dict[str, Any], where: str = "profile") -> BrokerProfile:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a mapping of fields, got {type(data).__name__}")
    try:
        return BrokerProfile.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, where) from None


def load_profile(path: str | Path) -> BrokerProfile:
    p = Path(path)
    try:
        raw = p.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ProfileError(f"{p}: cannot read profile ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ProfileError(f"{p}: line {line}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(raw) if p.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}") from None
    return profile_from_mapping(data or {}, str(p))
