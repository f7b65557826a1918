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

from ccinspect.core import textfile
from ccinspect.core.dates import DateParseError, parse_date
from ccinspect.core.errors import InputError, place_of


class ProfileError(InputError):
    """A profile is unusable; the message names the file and the field."""

    def __init__(self, message, **where):
        # the text says where ("broker.yaml: field 'capital': ..." or "capital: ..."); carried as fields too
        if isinstance(message, str) and not where:
            where = {"located": True, **_place(message)}
        super().__init__(message, **where)


def _place(text: str) -> dict:
    first = text.split("\n", 1)[0]
    head, sep, rest = first.partition(": ")
    if not sep:
        return {}
    if rest.startswith("field '"):
        return {**place_of(first), "field": rest[7:].split("'", 1)[0]}
    if "/" in head or head.endswith((".yaml", ".yml", ".json")) or head == "profile":
        return place_of(first)
    return {"field": head}


NO_CAPITAL = ("未填實收資本額或指撥營運資金（資安分級依此決定，不得為零）；no paid-in or allocated operating capital "
              "(the tier depends on it: it is required and cannot be zero)")


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


def _f(default: Any = ..., *, zh: str, en: str, **kw) -> Any:
    """A profile field with its label in both languages: the web form and the API are generated from these."""
    return Field(default, json_schema_extra={"zh": zh, "en": en}, **kw)


class BrokerProfile(BaseModel):
    """The facts that decide what binds a broker. Every field is in the web form, the API and the CLI (they
    are generated from this model); a new field appears in all three."""

    model_config = ConfigDict(extra="forbid")

    name: str = _f("Broker", zh="名稱", en="Name")
    broker_code: str | None = _f(None, zh="證券商代號", en="TWSE broker code")
    foreign_branch: bool = _f(False, zh="外國證券商在臺分公司（資本額為指撥營運資金）",
                              en="Foreign broker's branch (capital is the allocated operating capital)")
    capital: int = _f(zh="實收資本額或指撥營運資金（新臺幣，如 250億、4千萬、NT$25,000,000,000）",
                      en="Paid-in capital or allocated operating capital (NTD, e.g. 250億, 4千萬, NT$25,000,000,000)")
    capital_as_of: dt.date | None = _f(None, zh="資本額基準日", en="Capital as of")
    internet_orders: bool = _f(True, zh="網際網路下單", en="Internet order-taking")
    voice_orders: bool = _f(False, zh="語音下單", en="Voice order-taking")
    traditional_orders: bool = _f(True, zh="傳統下單", en="Traditional order-taking")
    securities_brokerage: bool = _f(True, zh="經紀業務", en="Securities brokerage")
    api_ordering: bool = _f(False, zh="API 下單", en="API ordering")
    mobile_app: bool = _f(False, zh="行動應用程式（App）", en="Mobile app")
    cloud_user: bool = _f(False, zh="使用雲端服務", en="Uses cloud services")
    cloud_provider: bool = _f(False, zh="提供雲端服務", en="Provides cloud services")
    official_social_media: bool = _f(False, zh="官方社群媒體", en="Official social media")
    iot_devices: bool = _f(False, zh="物聯網設備", en="IoT devices")
    public_company: bool = _f(False, zh="公開發行公司", en="Public company")
    # pre-2020 text: auction terminals on the public network
    public_network_terminals: bool = _f(False, zh="公眾網路競價終端機（109年修正前條文）",
                                        en="Auction terminals on the public network (pre-2020 text)")
    e_trading_share: float | None = _f(None, zh="電子交易占比（%）", en="E-trading share (%)")
    brokerage_market_share: float | None = _f(None, zh="經紀業務市占率（%）", en="Brokerage market share (%)")
    natural_person_client_ratio: float | None = _f(None, zh="自然人客戶比率（%）", en="Natural-person client ratio (%)")
    fiscal_year_end: str = _f("12-31", zh="會計年度終了日（MM-DD）", en="Fiscal year end (MM-DD)")
    last_performed: dict[str, dt.date] = _f(default_factory=dict, zh="定期作業最近辦理日",
                                            en="Last dates of recurring duties")  # recurring duty id -> last date
    core_systems: list[str] = _f(default_factory=list, zh="核心系統（每行一個）", en="Core systems (one a line)")
    tier_override: int | None = _f(None, zh="指定資安分級（選填）", en="Tier override (optional)")
    tier_override_reason: str = _f("", zh="指定分級之理由", en="Reason for the tier override", validate_default=True)
    # Where the text says only 定期 (penetration tests, BCP drills), the broker's own interval in months, by
    # analyzer.rule ("security_tests.penetration_test: 24"); rules.yaml marks those `interval_assumed`.
    assumed_intervals: dict[str, int] = _f(default_factory=dict, zh="自訂檢查週期（月；條文僅稱「定期」者，每行「規則: 月數」）",
                                           en="Own intervals in months where the text says only 定期 (one 'rule: months' a line)")

    @field_validator("assumed_intervals", mode="before")
    @classmethod
    def _intervals(cls, v: Any) -> Any:
        """The web form's text, one `analyzer.rule: months` a line, or a mapping."""
        if not isinstance(v, str):
            return v
        out = {}
        for n, line in enumerate(v.splitlines(), 1):
            if not line.strip():
                continue
            key, sep, months = line.partition(":")
            if not sep or not months.strip().isdigit() or int(months) < 1:
                raise ValueError(f"line {n}: expected 'analyzer.rule: months', got {line.strip()!r}")
            out[key.strip()] = int(months)
        return out

    @field_validator("capital", mode="before")
    @classmethod
    def _capital(cls, v: Any) -> int:
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ValueError(NO_CAPITAL)
        try:
            amount = parse_capital(v)
        except ProfileError as exc:
            raise ValueError(str(exc).split(": ", 1)[1]) from None
        if amount == 0:
            raise ValueError(NO_CAPITAL)
        return amount

    @field_validator("broker_code", mode="before")
    @classmethod
    def _code(cls, v: Any) -> str | None:
        if v is None or not str(v).strip():
            return None
        code = str(v).strip().upper()
        if not re.fullmatch(r"[0-9A-Z]{4}", code):
            raise ValueError(f"證券商代號應為 4 碼英數字（如 9800）；a TWSE broker code is 4 letters or digits "
                             f"(e.g. 9800), got {_shown(v)!r}")
        return code

    @field_validator("capital_as_of", mode="before")
    @classmethod
    def _as_of(cls, v: Any) -> dt.date | None:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        try:
            return parse_date(v, field="capital_as_of")
        except DateParseError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("core_systems", mode="before")
    @classmethod
    def _systems(cls, v: Any) -> list[str]:
        if v is None:
            return []
        if isinstance(v, str):
            v = v.splitlines()
        return [str(x).strip() for x in v if str(x).strip()]

    @field_validator("tier_override", mode="before")
    @classmethod
    def _override(cls, v: Any) -> int | None:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if isinstance(v, bool) or str(v).strip() not in ("1", "2", "3", "4"):
            raise ValueError(f"資安分級為 1 至 4；a tier is 1, 2, 3 or 4, got {_shown(v)!r}")
        return int(str(v).strip())

    @field_validator("tier_override_reason")
    @classmethod
    def _override_needs_reason(cls, v: str, info) -> str:
        if info.data.get("tier_override") is not None and not v.strip():
            raise ValueError("指定資安分級須說明理由；a tier override needs its reason")
        return v.strip()

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


class ProfileHistory:
    """A broker's profile over time: versions, each in force from its date until the next one's.

    Transition rule (the sources give none): a version's facts, its capital and so its tier included, bind
    from its `effective_from` date on; a date before the first version follows the first version. Recurring
    duties and inspections are judged by the version in force on their due date (a period's last day)."""

    def __init__(self, versions: list[tuple[dt.date, BrokerProfile]]):
        if not versions:
            raise ProfileError("a profile history needs at least one version")
        self.versions = sorted(versions, key=lambda v: v[0])
        if len({d for d, _ in self.versions}) != len(self.versions):
            raise ProfileError("two profile versions take effect on the same date")

    @classmethod
    def single(cls, profile: BrokerProfile) -> ProfileHistory:
        return cls([(dt.date.min, profile)])

    @property
    def latest(self) -> BrokerProfile:
        return self.versions[-1][1]

    def at(self, day: dt.date) -> BrokerProfile:
        current = self.versions[0][1]
        for start, profile in self.versions:
            if start > day:
                break
            current = profile
        return current


def _explain(exc: ValidationError, where: str) -> ProfileError:
    parts = []
    for err in exc.errors():
        loc = ".".join(_shown(p) for p in err["loc"]) or "(profile)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing" and loc == "capital":
            msg = NO_CAPITAL
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
        raw = textfile.read_text(p).text
    except OSError as exc:
        raise ProfileError(f"{p}: cannot read profile ({exc.strerror})") from None
    except InputError as exc:  # neither UTF-8, UTF-16 nor CP950: the text names the encoding and the byte
        line = f"line {exc.line}: " if exc.line else ""
        raise ProfileError(f"{p}: {line}not UTF-8, UTF-16 or CP950 text: {exc.message}") from None
    try:
        data = json.loads(raw) if p.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}") from None
    return profile_from_mapping(data or {}, str(p))
