"""Which requirements bind a broker on a date, which are coming, and which tiered duties it carries.

Everything here is read from the catalog data: conditions, tier boundaries, tier duties and effective
dates. No CC number appears in this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ccinspect.catalog import Catalog, FrameworkVersion, Requirement, load_catalog
from ccinspect.catalog.models import TierBinding, TierDuty
from ccinspect.core.dates import dual
from ccinspect.core.errors import InputError

from .profile import BrokerProfile


class ApplicabilityError(InputError):
    """The profile and the catalog give no answer (a capital in no tier, a date out of range)."""


def tier_for_capital(capital: int, catalog: Catalog | None = None) -> int:
    """Tier by paid-in (or allocated operating) capital; lower bounds inclusive, upper bounds exclusive."""
    cat = catalog or load_catalog()
    for t in cat.tier_schedule.tiers:
        lo = t.min_capital if t.min_capital is not None else -1
        hi = t.max_capital if t.max_capital is not None else float("inf")
        if lo <= capital < hi:
            return t.tier
    raise ApplicabilityError(f"capital {capital} falls in no tier of the tier schedule")


def profile_tier(profile: BrokerProfile, catalog: Catalog | None = None) -> int:
    """The broker's tier: its override (with a reason, see BrokerProfile) or else the tier of its capital."""
    return profile.tier_override or tier_for_capital(profile.capital, catalog)


@dataclass(frozen=True)
class DutyView:
    """A tier duty as it binds (or not) one tier, under the governing source."""

    id: str
    name: str
    name_en: str
    kind: str
    implements: tuple[str, ...]
    tiers: tuple[int, ...]
    scope: str
    source: str
    effective_year: int | None
    effective_text: str | None
    frequency_months: int | None
    frequency: str | None
    other_sources: tuple[dict, ...]
    implementation: tuple[str, ...] = ()
    implementation_en: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "name_en": self.name_en, "kind": self.kind,
            "implements": list(self.implements), "tiers": list(self.tiers), "scope": self.scope,
            "source": self.source, "effective_year": self.effective_year,
            "effective_text": self.effective_text, "frequency_months": self.frequency_months,
            "frequency": self.frequency, "other_sources": list(self.other_sources),
        }


def _precedence(cat: Catalog) -> dict[str, int]:
    return {s.id: s.precedence for s in cat.tier_schedule.sources}


def governing_binding(duty: TierDuty, cat: Catalog, source: str | None = None) -> TierBinding:
    """The binding of the named source, else of the highest-precedence source (the later document)."""
    if source:
        for b in duty.bindings:
            if b.source == source:
                return b
    prec = _precedence(cat)
    return max(duty.bindings, key=lambda b: prec.get(b.source, 0))


def duty_view(duty: TierDuty, tier: int | None, cat: Catalog, source: str | None = None) -> DutyView:
    gov = governing_binding(duty, cat, source)
    eff_year = gov.effective_year or next((b.effective_year for b in duty.bindings if b.effective_year), None)
    eff_text = gov.effective_text or next((b.effective_text for b in duty.bindings if b.effective_text), None)
    freq_m = duty.frequency_by_tier.get(tier) if tier is not None else None
    freq_txt = gov.frequency or next((b.frequency for b in duty.bindings if b.frequency), None)
    others = tuple(
        {"source": b.source, "tiers": b.tiers, "scope": b.scope}
        for b in duty.bindings if b is not gov and (b.tiers != gov.tiers or b.scope != gov.scope)
    )
    return DutyView(
        id=duty.id, name=duty.name, name_en=duty.name_en, kind=duty.kind, implements=tuple(duty.implements),
        tiers=tuple(gov.tiers), scope=gov.scope, source=gov.source, effective_year=eff_year,
        effective_text=eff_text, frequency_months=freq_m, frequency=freq_txt, other_sources=others,
        implementation=tuple(duty.implementation), implementation_en=tuple(duty.implementation_en),
    )


@dataclass
class Entry:
    ref_id: str
    requirement: Requirement
    reason: str
    reason_en: str
    effective_from: dt.date | None = None
    milestones: list[dict] = field(default_factory=list)

    @property
    def cadence(self) -> str | None:
        return self.requirement.cadence.value if self.requirement.cadence else None

    def to_dict(self) -> dict:
        r = self.requirement
        return {
            "ref_id": self.ref_id,
            "framework": r.framework,
            "version": r.version,
            "parent": r.parent,
            "cadence": self.cadence,
            "assessable": r.assessable,
            "obligation": r.obligation,
            "reason": self.reason,
            "reason_en": self.reason_en,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "milestones": self.milestones,
            "text": r.text,
            "text_en": r.text_en,
        }


@dataclass
class Applicability:
    profile: BrokerProfile
    as_of: dt.date
    tier: int
    version: str
    applicable: list[Entry]
    not_applicable: list[Entry]
    upcoming: list[Entry]
    duties: list[DutyView]

    def applicable_ids(self) -> set[str]:
        return {e.ref_id for e in self.applicable}

    def to_dict(self) -> dict:
        return {
            "broker": self.profile.name,
            "as_of": self.as_of.isoformat(),
            "as_of_roc": dual(self.as_of),
            "version": self.version,
            "tier": self.tier,
            "applicable": [e.to_dict() for e in self.applicable],
            "not_applicable": [e.to_dict() for e in self.not_applicable],
            "upcoming": [e.to_dict() for e in self.upcoming],
            "duties": [d.to_dict() for d in self.duties],
        }


def _tiers_str(tiers) -> str:
    t = sorted(tiers)
    if t and t == list(range(t[0], t[-1] + 1)) and len(t) > 1:
        return f"{t[0]}–{t[-1]}"
    return ", ".join(str(x) for x in t)


class Evaluator:
    def __init__(self, profile: BrokerProfile, as_of: dt.date, catalog: Catalog | None = None,
                 version: str | None = None, tier_source: str | None = None):
        self.cat = catalog or load_catalog()
        self.profile = profile
        self.as_of = as_of
        self.tier = profile_tier(profile, self.cat)
        sources = sorted(s.id for s in self.cat.tier_schedule.sources)
        if tier_source is not None and tier_source not in sources:
            raise ApplicabilityError(f"--tier-source: {tier_source!r} is not a tier source; expected one of "
                                     f"{', '.join(sources)}")
        self.tier_source = tier_source
        self.fv: FrameworkVersion = (
            self.cat.version("mechanism", version) if version else self.cat.version_in_force("mechanism", as_of)
        )
        self.duty_views = {d.id: duty_view(d, self.tier, self.cat, tier_source) for d in self.cat.tier_schedule.duties}

    # --- conditions ------------------------------------------------------------------------------

    def _tiers_binding(self, ref_id: str) -> tuple[set[int], list[DutyView]]:
        views = [v for v in self.duty_views.values() if ref_id in v.implements]
        tiers: set[int] = set()
        for v in views:
            tiers |= set(v.tiers)
        return tiers, views

    def _check(self, cond: str, req: Requirement) -> tuple[bool, str, str]:
        spec = self.cat.conditions[cond]
        if spec.by_tier:
            ref = req.ref_id
            tiers, views = self._tiers_binding(ref)
            # A by-tier child of a node the tier schedule names inherits that node's tiers.
            probe = req
            while not views and probe.parent:
                probe = self.fv.get(probe.parent)
                tiers, views = self._tiers_binding(probe.ref_id)
            if not views:
                return True, "依其所屬資安分級（分級表未列本項，視為各級適用）", \
                    "by tier (the tier schedule names no tiers for it; treated as binding every tier)"
            names = "、".join(v.name for v in views)
            names_en = "; ".join(v.name_en for v in views)
            srcs = ", ".join(sorted({v.source for v in views}))
            if self.tier in tiers:
                return True, f"第{self.tier}級適用（{names}：第{_tiers_str(tiers)}級，來源 {srcs}）", \
                    f"binds tier {self.tier} ({names_en}: tiers {_tiers_str(tiers)}, source {srcs})"
            return False, f"僅適用第{_tiers_str(tiers)}級（{names}）", \
                f"tiers {_tiers_str(tiers)} only ({names_en})"
        fields = [spec.field] if spec.field else list(spec.any_of_fields)
        ok = any(self.profile.flag(f) for f in fields)
        return (ok, spec.applies_reason, spec.applies_reason_en) if ok else (ok, spec.reason, spec.reason_en)

    def _own(self, req: Requirement) -> tuple[bool, list[str], list[str]]:
        """Evaluate the node's resolved conditions: (holds, reasons zh, reasons en).

        When all hold, the reasons say why it applies; otherwise only the failing ones say why not.
        """
        results: list[tuple[bool, str, str]] = []
        for c in req.applies_to:
            if isinstance(c, tuple):  # any_of: one alternative suffices
                alts = [self._check(x, req) for x in c[1]]
                hit = next((r for r in alts if r[0]), None)
                results.append(hit or (False, " 或 ".join(r[1] for r in alts), " or ".join(r[2] for r in alts)))
            else:
                results.append(self._check(c, req))
        if not results:
            return True, ["適用所有證券商"], ["applies to all securities firms"]
        ok = all(r[0] for r in results)
        chosen = results if ok else [r for r in results if not r[0]]
        return ok, [r[1] for r in chosen], [r[2] for r in chosen]

    def in_force(self, req: Requirement) -> bool:
        """Whether a requirement of any framework binds this broker on the date: its own conditions and start.

        For frameworks the walk below does not cover (the internal-control standard)."""
        ok, _, _ = self._own(req)
        return ok and (req.effective_from is None or req.effective_from <= self.as_of)

    def _milestones(self, req: Requirement) -> list[dict]:
        out = []
        for m in req.milestones:
            binds = True
            tiers = None
            if m.duty and m.duty in self.duty_views:
                tiers = self.duty_views[m.duty].tiers
                binds = self.tier in tiers
            out.append({
                "date": m.date.isoformat(), "scope": m.scope, "scope_en": m.scope_en,
                "source_text": m.source_text, "tiers": list(tiers) if tiers else None,
                "binds_this_tier": binds, "in_force": binds and m.date <= self.as_of,
            })
        return out

    # --- the walk --------------------------------------------------------------------------------

    def evaluate(self) -> Applicability:
        # state per ref_id: "applicable" | "upcoming" | "not"
        state: dict[str, str] = {}
        entries: dict[str, Entry] = {}
        for req in reversed(self.fv.requirements):  # children before parents
            own_ok, zh, en = self._own(req)
            kids = [state[c] for c in req.children]
            eff = req.effective_from
            if req.children:
                if "applicable" in kids:
                    st = "applicable" if (eff is None or eff <= self.as_of) else "upcoming"
                    if not own_ok:
                        zh, en = ["部分子項適用所有證券商"], ["some of its items apply to every securities firm"]
                elif "upcoming" in kids:
                    st = "upcoming"
                    child_dates = [entries[c].effective_from for c in req.children
                                   if state[c] == "upcoming" and entries[c].effective_from]
                    eff = min(child_dates) if child_dates else eff
                elif own_ok and req.assessable and not any(k == "not" for k in kids):
                    st = "applicable" if (eff is None or eff <= self.as_of) else "upcoming"
                else:
                    st = "not"
                    if own_ok:
                        zh, en = ["所有子項皆不適用"], ["none of its items applies"]
            else:
                if not own_ok:
                    st = "not"
                elif eff is not None and eff > self.as_of:
                    st = "upcoming"
                else:
                    st = "applicable"
            if st == "applicable" and eff is not None:
                zh = zh + [f"自 {dual(eff)} 生效"]
                en = en + [f"in force since {dual(eff)}"]
            if st == "upcoming":
                zh = zh + [f"將於 {dual(eff)} 生效"]
                en = en + [f"takes effect {dual(eff)}"]
            state[req.ref_id] = st
            entries[req.ref_id] = Entry(
                ref_id=req.ref_id, requirement=req, reason="；".join(zh), reason_en="; ".join(en),
                effective_from=eff, milestones=self._milestones(req),
            )
        ordered = [r.ref_id for r in self.fv.requirements]
        applicable = [entries[i] for i in ordered if state[i] == "applicable"]
        upcoming = [entries[i] for i in ordered if state[i] == "upcoming"]
        # A later step of a requirement already in force (ISMS certification) is upcoming too.
        for e in applicable:
            for m in e.milestones:
                if m["binds_this_tier"] and not m["in_force"]:
                    d = dt.date.fromisoformat(m["date"])
                    upcoming.append(Entry(
                        ref_id=e.ref_id, requirement=e.requirement,
                        reason=f"{m['scope']}將於 {dual(d)} 生效（{m['source_text']}）",
                        reason_en=f"{m['scope_en']} takes effect {dual(d)}",
                        effective_from=d, milestones=[m],
                    ))
        upcoming.sort(key=lambda e: (e.effective_from or dt.date.max, e.requirement.order))
        not_applicable = [entries[i] for i in ordered if state[i] == "not"]
        duties = sorted(
            (v for v in self.duty_views.values() if self.tier in v.tiers),
            key=lambda v: (v.kind != "maintained", v.id),
        )
        return Applicability(
            profile=self.profile, as_of=self.as_of, tier=self.tier, version=self.fv.id,
            applicable=applicable, not_applicable=not_applicable, upcoming=upcoming, duties=duties,
        )


def evaluate(profile: BrokerProfile, as_of: dt.date, catalog: Catalog | None = None,
             version: str | None = None, tier_source: str | None = None) -> Applicability:
    return Evaluator(profile, as_of, catalog, version, tier_source).evaluate()
