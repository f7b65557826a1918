"""The business continuity register (CC-20000): plain pydantic records, no storage and no framework.

Times (tolerable interruption, RTO, RPO) are in minutes. Every record kind is a list on `Register`; the
web layer can build the same records from its database rows and hand them to the engine.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ccinspect.core.dates import DateParseError, parse_date


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        # Empty spreadsheet cells and YAML `''` mean "not recorded".
        return None if isinstance(v, str) and not v.strip() else v


def _date(v: Any) -> Any:
    """ISO or ROC dates (113/06/30, 民國113年6月30日), as the rest of ccinspect accepts them."""
    if v is None or isinstance(v, dt.date):
        return v.date() if isinstance(v, dt.datetime) else v
    try:
        return parse_date(str(v))
    except DateParseError as exc:
        raise ValueError(str(exc)) from None


def _list(v: Any) -> Any:
    """Lists may be written as one cell: 'a; b; c' (also ；、 and newlines)."""
    if v is None:
        return []
    if isinstance(v, str):
        for sep in ("；", "、", "\n"):
            v = v.replace(sep, ";")
        return [p.strip() for p in v.split(";") if p.strip()]
    return v


class CoreSystem(Record):
    """A core system from the asset inventory's classification (CC-14000.3: core / non-core)."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    functions: list[str] = Field(default_factory=list)  # business functions it serves
    trading_host: bool = False  # the brokerage trading host (交易主機)
    major_impact: bool = False  # major impact on operations per the BIA (amended (八))
    outsourced_provider: str | None = None  # information service provider, when outsourced ((十六))
    provider_plan_months: int | None = Field(default=None, gt=0)  # contract: recovery plan every N months

    @field_validator("functions", mode="before")
    @classmethod
    def _v1(cls, v: Any) -> Any:
        return _list(v)


class ImpactAnalysis(Record):
    """A business impact analysis (營運衝擊分析) of one core system ((七), yearly)."""

    id: str = Field(min_length=1)
    system: str = Field(min_length=1)
    date: dt.date
    tolerable_minutes: float = Field(ge=0)  # 可容忍中斷時間
    rto_minutes: float = Field(ge=0)
    rpo_minutes: float = Field(ge=0)
    approver: str = Field(min_length=1)

    @field_validator("date", mode="before")
    @classmethod
    def _v2(cls, v: Any) -> Any:
        return _date(v)


class Moment(StrEnum):
    """The five points in time of (二), by their number in the text."""

    before_open = "1"  # 開盤前機器無法啟動
    during_trading = "2"  # 盤中交易期間機器停頓
    after_close = "3"  # 收盤後資料未核對完成前系統發生異常情形
    settlement = "4"  # 所有交割或清算之作業未完成時系統發生異常
    end_of_day = "5"  # 每日日結作業時系統發生異常


MOMENT_TEXT = {  # verbatim from CC-20000 (二)
    Moment.before_open: "開盤前機器無法啟動",
    Moment.during_trading: "盤中交易期間機器停頓",
    Moment.after_close: "收盤後資料未核對完成前系統發生異常情形",
    Moment.settlement: "所有交割或清算之作業未完成時系統發生異常",
    Moment.end_of_day: "每日日結作業時系統發生異常",
}
MOMENT_TEXT_EN = {
    Moment.before_open: "machines cannot be started before the open",
    Moment.during_trading: "machines stop during the trading session",
    Moment.after_close: "malfunction after the close, before the data are reconciled",
    Moment.settlement: "malfunction while settlement or clearing is not complete",
    Moment.end_of_day: "malfunction during the end-of-day batch",
}


class FallbackPlan(Record):
    """A manual fallback plan (人工配合之備援計畫) for one moment of (二); (三)2: the business unit runs it."""

    id: str = Field(min_length=1)
    moment: Moment
    business_unit: str = Field(min_length=1)
    procedure: str = Field(min_length=1)
    systems: list[str] = Field(default_factory=list)  # empty: every core system
    approved_on: dt.date | None = None

    @field_validator("moment", mode="before")
    @classmethod
    def _moment(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer():
            return str(int(v))
        return v

    @field_validator("systems", mode="before")
    @classmethod
    def _v3(cls, v: Any) -> Any:
        return _list(v)

    @field_validator("approved_on", mode="before")
    @classmethod
    def _v4(cls, v: Any) -> Any:
        return _date(v)


class DrCoverage(Record):
    """A core system set up at the off-site backup computer room (異地備援機房); `since` in the future = planned."""

    system: str = Field(min_length=1)
    site: str = Field(min_length=1)
    since: dt.date
    last_switch_test: dt.date | None = None

    @field_validator("since", "last_switch_test", mode="before")
    @classmethod
    def _v5(cls, v: Any) -> Any:
        return _date(v)


class DrillKind(StrEnum):
    bcp = "bcp"  # 業務持續運作演練 ((七))
    ddos = "ddos"  # DDoS 防禦與應變演練 ((十一))
    fault_recovery = "fault_recovery"  # 故障復原程序測試 ((十二))
    restore = "restore"  # backup restore test ((一)1)


class Result(StrEnum):
    passed = "passed"
    partial = "partial"
    failed = "failed"


class Drill(Record):
    """A drill or test, with target vs achieved recovery."""

    id: str = Field(min_length=1)
    kind: DrillKind
    date: dt.date
    scenario: str = Field(min_length=1)
    systems: list[str] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)
    third_party_involved: bool = False  # the drill's scope involves a third party ((七))
    vendors_invited: list[str] = Field(default_factory=list)
    target_rto_minutes: float | None = Field(default=None, ge=0)
    achieved_rto_minutes: float | None = Field(default=None, ge=0)
    target_rpo_minutes: float | None = Field(default=None, ge=0)
    achieved_rpo_minutes: float | None = Field(default=None, ge=0)
    result: Result
    review_meeting_on: dt.date | None = None  # 檢討會議 ((十二))
    improvement_items: list[str] = Field(default_factory=list)

    @field_validator("systems", "participants", "vendors_invited", "improvement_items", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> Any:
        return _list(v)

    @field_validator("date", "review_meeting_on", mode="before")
    @classmethod
    def _v6(cls, v: Any) -> Any:
        return _date(v)

    @model_validator(mode="after")
    def _review_after(self) -> Drill:
        if self.review_meeting_on and self.review_meeting_on < self.date:
            raise ValueError(f"review_meeting_on {self.review_meeting_on} is before the drill ({self.date})")
        return self


class RiskScenario(Record):
    """A risk scenario with each system's response, mitigation and recovery steps ((十四))."""

    id: str = Field(min_length=1)
    system: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    response: str | None = None
    mitigation: str | None = None
    recovery: str | None = None
    reviewed_on: dt.date

    @field_validator("reviewed_on", mode="before")
    @classmethod
    def _v7(cls, v: Any) -> Any:
        return _date(v)


class PlanForm(StrEnum):
    dr_plan = "dr_plan"  # 災難復原計畫
    drill = "drill"  # 備援演練
    bcp = "bcp"  # 營運持續計畫


class ProviderPlan(Record):
    """An outsourced system's recovery plan received from the information service provider ((十六))."""

    id: str = Field(min_length=1)
    system: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    form: PlanForm
    received_on: dt.date
    document: str | None = None

    @field_validator("received_on", mode="before")
    @classmethod
    def _v8(cls, v: Any) -> Any:
        return _date(v)


class ToleranceClass(Record):
    """One row of the tolerable-interruption-time-by-class table for internet-order brokers ((七), last sentence).

    The standard classifies by brokerage market share and natural-person client ratio but the seeds give no
    thresholds: the table is empty unless the broker fills it from a source it names.
    """

    id: str = Field(min_length=1)
    market_share_min: float | None = Field(default=None, ge=0, le=100)  # %, inclusive
    market_share_max: float | None = Field(default=None, ge=0, le=100)  # %, exclusive
    natural_person_ratio_min: float | None = Field(default=None, ge=0, le=100)
    natural_person_ratio_max: float | None = Field(default=None, ge=0, le=100)
    max_tolerable_minutes: float = Field(ge=0)
    source: str = Field(min_length=1)  # where the number comes from: never ccinspect's own

    def matches(self, share: float | None, ratio: float | None) -> bool:
        def within(v, lo, hi):
            if lo is None and hi is None:
                return True
            if v is None:
                return False
            return (lo is None or v >= lo) and (hi is None or v < hi)
        return within(share, self.market_share_min, self.market_share_max) and \
            within(ratio, self.natural_person_ratio_min, self.natural_person_ratio_max)


# The profile fields the tolerance table is keyed on (and whether it applies at all).
TOLERANCE_FEEDS = ("internet_orders", "brokerage_market_share", "natural_person_client_ratio")


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid")

    systems: list[CoreSystem] = Field(default_factory=list)
    impact_analyses: list[ImpactAnalysis] = Field(default_factory=list)
    fallback_plans: list[FallbackPlan] = Field(default_factory=list)
    dr_coverage: list[DrCoverage] = Field(default_factory=list)
    drills: list[Drill] = Field(default_factory=list)
    risk_scenarios: list[RiskScenario] = Field(default_factory=list)
    provider_plans: list[ProviderPlan] = Field(default_factory=list)
    tolerance_classes: list[ToleranceClass] = Field(default_factory=list)

    def system(self, sid: str) -> CoreSystem | None:
        return next((s for s in self.systems if s.id == sid), None)


# Record kind -> (register attribute, model, the fields that name core systems). Order = sheet order.
KINDS: dict[str, tuple[type[Record], tuple[str, ...]]] = {
    "systems": (CoreSystem, ()),
    "impact_analyses": (ImpactAnalysis, ("system",)),
    "fallback_plans": (FallbackPlan, ("systems",)),
    "dr_coverage": (DrCoverage, ("system",)),
    "drills": (Drill, ("systems",)),
    "risk_scenarios": (RiskScenario, ("system",)),
    "provider_plans": (ProviderPlan, ("system",)),
    "tolerance_classes": (ToleranceClass, ()),
}
ID_FIELD = {k: ("system" if k == "dr_coverage" else "id") for k in KINDS}


def reference_problems(reg: Register) -> list[tuple[str, int, str, str]]:
    """Cross-record problems as (kind, index, field, message): unknown systems, duplicate ids."""
    out: list[tuple[str, int, str, str]] = []
    known = {s.id for s in reg.systems}
    for kind, (_, refs) in KINDS.items():
        seen: dict[str, int] = {}
        for i, rec in enumerate(getattr(reg, kind)):
            if kind != "dr_coverage":
                rid = rec.id
                if rid in seen:
                    out.append((kind, i, "id", f"duplicate id {rid!r} (also record {seen[rid] + 1})"))
                seen.setdefault(rid, i)
            for f in refs:
                val = getattr(rec, f)
                for sid in val if isinstance(val, list) else [val]:
                    if sid not in known:
                        out.append((kind, i, f, f"unknown system {sid!r} (not in the systems sheet)"))
    return out
