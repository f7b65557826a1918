"""Schema of the regulation data: every YAML file under ``catalog/data`` is validated by these models."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ccinspect.core.ids import RequirementId


class Strict(BaseModel):
    # Unknown keys in the data are typos, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=False)


class Cadence(StrEnum):
    monthly = "monthly"
    semiannual = "semiannual"
    annual = "annual"


CADENCE_ZH = {Cadence.monthly: "每月查核", Cadence.semiannual: "半年查核", Cadence.annual: "年度查核"}
CADENCE_MONTHS = {Cadence.monthly: 1, Cadence.semiannual: 6, Cadence.annual: 12}


class Obligation(StrEnum):
    mandatory = "mandatory"  # 應 / 不得 / 須
    recommended = "recommended"  # 宜
    permitted = "permitted"  # 得
    none = "none"  # a heading that states no duty of its own


class AnyOf(Strict):
    any_of: list[str]


Condition = Annotated[str | AnyOf, Field(union_mode="left_to_right")]


class Milestone(Strict):
    """A dated step of a requirement, e.g. CC-12000.8: adoption 2022-01-31, certification 2023-01-31."""

    date: dt.date
    scope: str
    scope_en: str
    source_text: str  # the regulation's own words, e.g. 111年1月底導入生效
    duty: str | None = None  # tier duty id that says which tiers this step binds


class Node(Strict):
    ref_id: str
    label: str = ""
    title: str | None = None
    title_en: str | None = None
    text: str
    text_en: str
    obligation: Obligation = Obligation.mandatory
    assessable: bool = True
    cadence: Cadence | None = None  # inherited from the chapter when absent
    applies_to: list[Condition] = Field(default_factory=list)
    applies_to_replaces: bool = False  # True: ignore the conditions inherited from ancestors
    effective_from: dt.date | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    note: str | None = None  # conditions the text states that no profile field captures
    note_en: str | None = None
    children: list[Node] = Field(default_factory=list)

    @field_validator("ref_id")
    @classmethod
    def _ref_id_shape(cls, v: str) -> str:
        if not RequirementId.valid(v):
            raise ValueError(f"ref_id {v!r} does not look like CC-NNNNN[.label…]")
        return v

    @field_validator("text", "text_en")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @model_validator(mode="after")
    def _milestones_after_start(self) -> Node:
        # A milestone is a later step of a duty already in force (or starting with it), never earlier.
        if self.milestones and self.effective_from is not None:
            first = min(m.date for m in self.milestones)
            if first < self.effective_from:
                raise ValueError(f"milestone {first} precedes effective_from {self.effective_from}")
        return self


class ChapterFile(Strict):
    """One chapter of one version: the unit of the data files."""

    framework: str
    version: str
    chapter: int
    node: Node


# --- version manifests and amendments -------------------------------------------------------------


class AddOp(Strict):
    op: Literal["add"]
    parent: str
    after: str | None = None  # sibling ref_id; None puts the node first
    node: Node


class RemoveOp(Strict):
    op: Literal["remove"]
    ref_id: str


class ModifyOp(Strict):
    op: Literal["modify"]
    ref_id: str
    set: dict[str, Any]

    @field_validator("set")
    @classmethod
    def _known_fields(cls, v: dict[str, Any]) -> dict[str, Any]:
        allowed = set(Node.model_fields) - {"ref_id", "children"}
        unknown = set(v) - allowed
        if unknown:
            raise ValueError(f"modify may not set {sorted(unknown)}; allowed: {sorted(allowed)}")
        return v


Change = Annotated[AddOp | RemoveOp | ModifyOp, Field(discriminator="op")]


class VersionStatus(StrEnum):
    in_force = "in_force"
    superseded = "superseded"
    draft = "draft"


class VersionSpec(Strict):
    id: str
    title: str
    title_en: str
    status: VersionStatus
    promulgated: dt.date | None = None
    in_force_from: dt.date | None = None
    in_force_until: dt.date | None = None
    source: str  # which seed document the text comes from
    directory: str | None = None  # a full snapshot, one file per chapter
    derived_from: str | None = None  # or: another version plus a list of changes
    changes: list[Change] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> VersionSpec:
        if bool(self.directory) == bool(self.derived_from):
            raise ValueError(f"version {self.id}: give exactly one of directory or derived_from")
        return self


class FrameworkSpec(Strict):
    id: str
    title: str
    title_en: str
    issuer: str
    issuer_en: str
    versions: list[VersionSpec]  # chronological

    @field_validator("versions")
    @classmethod
    def _unique(cls, v: list[VersionSpec]) -> list[VersionSpec]:
        ids = [x.id for x in v]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate version ids: {ids}")
        return v


# --- applicability vocabulary -----------------------------------------------------------------------


class ConditionSpec(Strict):
    id: str
    field: str | None = None  # broker profile field that must be true
    any_of_fields: list[str] = Field(default_factory=list)
    by_tier: bool = False  # decided by the tier schedule, not a profile field
    reason: str  # why it does not apply, zh-TW
    reason_en: str
    applies_reason: str
    applies_reason_en: str


class ConditionsFile(Strict):
    conditions: list[ConditionSpec]


# --- tier schedule (分級防護) ---------------------------------------------------------------------------


class TierSpec(Strict):
    tier: int
    name: str
    name_en: str
    min_capital: int | None  # NTD, inclusive
    max_capital: int | None  # NTD, exclusive
    broker_count: int | None = None  # as the source counts them


class SourceDoc(Strict):
    id: str
    seed: str
    title: str
    title_en: str
    dated: str  # what is known of its date, verbatim if the document states it
    precedence: int  # higher governs when sources disagree


class TierBinding(Strict):
    source: str
    tiers: list[int]
    scope: Literal["whole_company", "core_systems", "internet_core_systems"]
    effective_year: int | None = None  # Gregorian
    effective_text: str | None = None  # as the source says it, e.g. 111年生效
    frequency: str | None = None
    frequency_months: int | None = None
    note: str | None = None
    note_en: str | None = None


class TierDuty(Strict):
    id: str
    name: str
    name_en: str
    kind: Literal["new_or_amended", "maintained"]
    implements: list[str]  # ref_ids of the mechanism
    bindings: list[TierBinding]  # one per source that states it
    implementation: list[str] = Field(default_factory=list)  # 實作 notes, verbatim
    implementation_en: list[str] = Field(default_factory=list)
    frequency_by_tier: dict[int, int] = Field(default_factory=dict)  # months between occurrences
    frequency_source: str | None = None


class TierScheduleFile(Strict):
    sources: list[SourceDoc]
    tiers: list[TierSpec]
    duties: list[TierDuty]


class FocusPoint(Strict):
    id: str
    area: str
    area_en: str
    number: int | None = None
    text: str
    text_en: str
    ref_ids: list[str]
    tiers: list[int] | None = None  # None: every broker
    source: str


class FocusPointsFile(Strict):
    source: str
    points: list[FocusPoint]


# --- recurring duties (the inspection calendar) -----------------------------------------------------


class RecurringDuty(Strict):
    """A dated duty the text or the tier schedule sets; the calendar places its occurrences."""

    id: str
    name: str
    name_en: str
    ref_ids: list[str]  # occurrences exist only while one of these applies to the broker
    framework: str = "mechanism"
    every_months: int | None = None  # fixed interval
    tier_duty: str | None = None  # or: the interval of that tier duty for the broker's tier
    due: Literal["period_end", "after_fiscal_year_end"] = "period_end"
    due_months_after: int = 0  # with after_fiscal_year_end: the deadline after the fiscal year end
    basis: str  # the words that set the interval, verbatim
    basis_en: str
    assumed: bool = False  # True where the seeds say 定期 without an interval and ccinspect picks one

    @model_validator(mode="after")
    def _interval(self) -> RecurringDuty:
        if (self.every_months is None) == (self.tier_duty is None):
            raise ValueError(f"{self.id}: give exactly one of every_months or tier_duty")
        return self


class RecurringFile(Strict):
    duties: list[RecurringDuty]
