"""The inspection calendar: periodic chapter inspections and every dated duty, with due dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ccinspect.catalog import Catalog, Requirement, load_catalog
from ccinspect.catalog.models import CADENCE_MONTHS, CADENCE_ZH, Cadence, RecurringDuty
from ccinspect.core.dates import dual, months_after, period_start, to_roc
from ccinspect.core.ids import OccurrenceId

from .engine import Applicability, Evaluator
from .profile import BrokerProfile, ProfileHistory


@dataclass(frozen=True)
class Occurrence:
    due: dt.date
    kind: str  # "inspection" (a chapter's periodic inspection) or "duty"
    id: str
    title: str
    title_en: str
    ref_ids: tuple[str, ...]
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    basis: str = ""
    basis_en: str = ""
    assumed: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {
            "due": self.due.isoformat(),
            "due_roc": to_roc(self.due),
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "title_en": self.title_en,
            "ref_ids": list(self.ref_ids),
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "basis": self.basis,
            "basis_en": self.basis_en,
            "assumed": self.assumed,
        }


def _periods(cadence: Cadence, start: dt.date, end: dt.date):
    return _periods_months(CADENCE_MONTHS[cadence], start, end)


class CalendarBuilder:
    def __init__(self, profile: BrokerProfile | ProfileHistory, catalog: Catalog | None = None):
        self.cat = catalog or load_catalog()
        # Each date is judged by the profile version in force on it (ProfileHistory's transition rule); the
        # recurring duties' last dates and the fiscal year come from the latest version.
        self.history = profile if isinstance(profile, ProfileHistory) else ProfileHistory.single(profile)
        self.profile = self.history.latest
        self._evaluators: dict[dt.date, Evaluator] = {}
        self._cache: dict[dt.date, Applicability] = {}

    def evaluator(self, on: dt.date) -> Evaluator:
        if on not in self._evaluators:
            self._evaluators[on] = Evaluator(self.history.at(on), on, self.cat)
        return self._evaluators[on]

    def applicability(self, on: dt.date) -> Applicability:
        if on not in self._cache:
            self._cache[on] = self.evaluator(on).evaluate()
        return self._cache[on]

    def _units(self, res: Applicability) -> list[Requirement]:
        """Inspection units: chapters with a cadence, else their sub-chapters (chapter 7)."""
        fv = self.cat.version("mechanism", res.version)
        units = []
        for ch in fv.chapter_nodes():
            if ch.cadence is not None and all(fv.get(c).cadence == ch.cadence for c in ch.children):
                units.append(ch)
            else:
                units.extend(fv.get(c) for c in ch.children if fv.get(c).cadence is not None)
        return units

    def inspections(self, start: dt.date, end: dt.date) -> list[Occurrence]:
        out = []
        for cadence in Cadence:
            for p_start, p_end in _periods(cadence, start, end):
                res = self.applicability(p_end)
                ids = res.applicable_ids()
                for unit in self._units(res):
                    if unit.cadence != cadence or unit.ref_id not in ids:
                        continue
                    occ_id = OccurrenceId.inspection(unit.ref_id, cadence.value, p_end)
                    label = occ_id.period
                    out.append(Occurrence(
                        due=p_end, kind="inspection", id=str(occ_id),
                        title=f"{unit.title or unit.text}（{unit.ref_id}）{CADENCE_ZH[cadence]} {label}",
                        title_en=f"{unit.title_en or unit.text_en} ({unit.ref_id}) {cadence.value} inspection {label}",
                        ref_ids=(unit.ref_id,), period_start=p_start, period_end=p_end,
                        basis=unit.text, basis_en=unit.text_en,
                    ))
        return out

    def _interval(self, duty: RecurringDuty, tier: int) -> int | None:
        if duty.every_months:
            return duty.every_months
        td = next(d for d in self.cat.tier_schedule.duties if d.id == duty.tier_duty)
        return td.frequency_by_tier.get(tier)

    def _applies(self, duty: RecurringDuty, on: dt.date) -> bool:
        if duty.framework == "mechanism":
            return any(r in self.applicability(on).applicable_ids() for r in duty.ref_ids)
        fv = self.cat.version(duty.framework)
        return any(self.evaluator(on).in_force(fv.get(ref)) for ref in duty.ref_ids)

    def _anchor_year(self, duty: RecurringDuty) -> int:
        fv = self.cat.version(duty.framework)
        dates = [fv.get(r).effective_from for r in duty.ref_ids if fv.get(r).effective_from]
        return min(dates).year if dates else 2020

    def duties(self, start: dt.date, end: dt.date) -> list[Occurrence]:
        out = []
        # The tiers in force somewhere in [start, end]; with one version, the one tier of the range.
        starts = [start] + [d for d, _ in self.history.versions if start < d <= end]
        tiers = {self.applicability(d).tier for d in starts}
        for duty in self.cat.recurring.duties:
            intervals = {t: self._interval(duty, t) for t in tiers}
            for months in sorted({m for m in intervals.values() if m}):
                for due, p_start in self._dues(duty, months, start, end):
                    # a tier-dependent interval: the due date's tier decides which interval it follows
                    if intervals[self.applicability(due).tier] != months or not self._applies(duty, due):
                        continue
                    out.append(Occurrence(
                        due=due, kind="duty", id=str(OccurrenceId.duty(duty.id, due)),
                        title=duty.name, title_en=duty.name_en, ref_ids=tuple(duty.ref_ids),
                        period_start=p_start, period_end=due, basis=duty.basis, basis_en=duty.basis_en,
                        assumed=duty.assumed, extra={"every_months": months},
                    ))
        return out

    def _dues(self, duty: RecurringDuty, months: int, start: dt.date, end: dt.date):
        last = self.profile.last_performed.get(duty.id)
        if duty.due == "after_fiscal_year_end":
            for year in range(start.year - 1, end.year + 1):
                fye = self.profile.fiscal_year_end_date(year)
                due = months_after(fye, duty.due_months_after)
                if start <= due <= end:
                    yield due, period_start(fye, 12)
            return
        if last is not None:
            # Counted from when the broker last did it: the next one is due `months` later.
            due = months_after(last, months)
            while due < start:
                due = months_after(due, months)
            while due <= end:
                yield due, period_start(due, months)
                due = months_after(due, months)
            return
        if 12 % months == 0:
            for p_start, p_end in _periods_months(months, start, end):
                yield p_end, p_start
            return
        # Multi-year intervals: cycles counted from the year the requirement took effect.
        anchor = self._anchor_year(duty)
        years = months // 12
        y = anchor + years - 1
        while y <= end.year:
            due = dt.date(y, 12, 31)
            if start <= due <= end:
                yield due, dt.date(y - years + 1, 1, 1)
            y += years


def _periods_months(months: int, start: dt.date, end: dt.date):
    """Calendar-aligned periods of `months` (a divisor of 12) whose last day falls in [start, end]."""
    d = dt.date(start.year, 1, 1)
    while d <= end:
        p_end = months_after(d - dt.timedelta(days=1), months)
        if start <= p_end <= end:
            yield d, p_end
        d = p_end + dt.timedelta(days=1)


def build_calendar(profile: BrokerProfile | ProfileHistory, start: dt.date, end: dt.date,
                   catalog: Catalog | None = None) -> list[Occurrence]:
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    b = CalendarBuilder(profile, catalog)
    items = b.inspections(start, end) + b.duties(start, end)
    return sorted(items, key=lambda o: (o.due, o.kind, o.id))


def to_ics(items: list[Occurrence], profile: BrokerProfile) -> bytes:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//ccinspect//TWSE cybersecurity inspection calendar//ZH-TW")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{profile.name} 資安查核行事曆")
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for o in items:
        ev = Event()
        ev.add("uid", f"{o.id}@ccinspect")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", o.due)
        ev.add("dtend", o.due + dt.timedelta(days=1))
        ev.add("summary", f"{o.title} / {o.title_en}")
        desc = [f"到期 Due: {dual(o.due)}", f"條文 Requirements: {', '.join(o.ref_ids)}"]
        if o.period_start:
            desc.append(f"期間 Period: {dual(o.period_start)} – {dual(o.period_end)}")
        if o.basis:
            desc += [o.basis, o.basis_en]
        if o.assumed:
            desc.append("頻率為 ccinspect 預設（法規未明定） / interval is a ccinspect default (the text says only 定期)")
        ev.add("description", "\n".join(desc))
        ev.add("categories", [o.kind])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()
