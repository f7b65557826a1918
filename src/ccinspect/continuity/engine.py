"""Evaluates the gap rules over a register for one broker on one date.

`evaluate(register, profile, as_of)` returns a `Status`: the gaps now, the shortfall coming on the DR-site
milestone of CC-20000.八 with a countdown, the drills and analyses falling due, the last drill per system
and the tolerance-class table with the profile fields that feed it. Plain data; no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ccinspect.applicability import BrokerProfile, profile_tier
from ccinspect.catalog import Catalog, load_catalog
from ccinspect.core.dates import dual, months_after
from ccinspect.core.results import Check, gap_check

from .intervals import drill_interval
from .model import (
    MOMENT_TEXT,
    MOMENT_TEXT_EN,
    TOLERANCE_FEEDS,
    CoreSystem,
    Drill,
    DrillKind,
    ImpactAnalysis,
    Moment,
    Register,
    Result,
    ToleranceClass,
)
from .rules import FRAMEWORK, Clause, Rule, RuleSet, default_rules


@dataclass
class Gap:
    rule: str
    title: str
    title_en: str
    message: str
    message_en: str
    clauses: list[Clause]
    mechanism: list[str]
    system: str | None = None
    record: tuple[str, str] | None = None  # (kind, id) of the record at fault, for links
    due: dt.date | None = None  # when the duty fell (or falls) due
    assumed: bool = False  # the interval is ccinspect's proposal, not the text's

    def to_dict(self) -> dict:
        return {
            "rule": self.rule, "title": self.title, "title_en": self.title_en,
            "message": self.message, "message_en": self.message_en, "system": self.system,
            "record": {"kind": self.record[0], "id": self.record[1]} if self.record else None,
            "due": self.due.isoformat() if self.due else None, "assumed": self.assumed,
            "clauses": [c.to_dict() for c in self.clauses], "mechanism": list(self.mechanism),
        }

    def to_check(self, lang: str = "en") -> Check:
        """The gap in the shape every engine returns (core.results): a failed check on the mechanism's
        requirements (else the clauses'), the record at fault as the evidence reference."""
        refs = list(self.mechanism) or list(dict.fromkeys(c.ref_id for c in self.clauses))
        return gap_check(rule=self.rule, ref_ids=refs, message=self.message if lang.startswith("zh") else
                         self.message_en, system=self.system, record=self.record,
                         due=self.due.isoformat() if self.due else None)


@dataclass
class DrOutlook:
    """Who will be at the DR site when the extension of CC-20000.八 takes effect."""

    milestone: dt.date
    days_left: int  # from the as-of date; <= 0 once in force
    in_force: bool
    systems: list[dict]  # per major-impact core system: at_dr_now, planned_since, falls_short

    def to_dict(self) -> dict:
        return {"milestone": self.milestone.isoformat(), "milestone_roc": dual(self.milestone),
                "days_left": self.days_left, "in_force": self.in_force, "systems": self.systems}


@dataclass
class DueItem:
    kind: str  # bia | bcp-drill | ddos-drill | fault-test | risk-review | provider-plan
    system: str | None
    last: dt.date | None
    due: dt.date | None  # None: never done, due now
    overdue: bool
    assumed: bool = False

    def to_dict(self) -> dict:
        return {"kind": self.kind, "system": self.system,
                "last": self.last.isoformat() if self.last else None,
                "due": self.due.isoformat() if self.due else None, "overdue": self.overdue,
                "assumed": self.assumed}


@dataclass
class Status:
    broker: str
    as_of: dt.date
    tier: int
    framework_version: str
    gaps: list[Gap]
    upcoming: list[Gap]  # gaps that a dated amendment will open (the DR-site extension)
    dr_outlook: DrOutlook | None
    due: list[DueItem]
    last_drills: list[dict]  # per core system: the latest drill with target vs achieved, for a chart
    tolerance: dict  # the tolerance-class table, the profile fields feeding it, the class matched
    notes: list[dict] = field(default_factory=list)  # rules that did not run, and why

    def to_dict(self) -> dict:
        return {
            "broker": self.broker, "as_of": self.as_of.isoformat(), "as_of_roc": dual(self.as_of),
            "tier": self.tier, "framework": FRAMEWORK, "framework_version": self.framework_version,
            "gaps": [g.to_dict() for g in self.gaps],
            "upcoming": [g.to_dict() for g in self.upcoming],
            "dr_outlook": self.dr_outlook.to_dict() if self.dr_outlook else None,
            "due": [d.to_dict() for d in self.due], "last_drills": self.last_drills,
            "tolerance": self.tolerance, "notes": self.notes,
        }


def _m(x: float | None) -> str:
    return "—" if x is None else f"{x:g} min"


class _Run:
    def __init__(self, reg: Register, profile: BrokerProfile, as_of: dt.date, rules: RuleSet, cat: Catalog):
        self.reg, self.profile, self.as_of, self.rules, self.cat = reg, profile, as_of, rules, cat
        self.tier = profile_tier(profile, cat)
        self.gaps: list[Gap] = []
        self.upcoming: list[Gap] = []
        self.due: list[DueItem] = []
        self.notes: list[dict] = []
        self.dr_outlook: DrOutlook | None = None
        self.tolerance: dict = {}
        # Records dated after the as-of date have not happened yet: DR coverage is handled on its own.
        self.drills = [d for d in reg.drills if d.date <= as_of]
        self.bias = [b for b in reg.impact_analyses if b.date <= as_of]

    def gap(self, rule: Rule, zh: str, en: str, *, system: str | None = None,
            record: tuple[str, str] | None = None, due: dt.date | None = None, upcoming: bool = False) -> None:
        g = Gap(rule.id, rule.title, rule.title_en, zh, en, self.rules.clauses(rule.id), list(rule.mechanism),
                system, record, due, rule.assumed)
        (self.upcoming if upcoming else self.gaps).append(g)

    def note(self, rule: Rule, zh: str, en: str) -> None:
        self.notes.append({"rule": rule.id, "note": zh, "note_en": en})

    def latest_bia(self, sid: str) -> ImpactAnalysis | None:
        mine = [b for b in self.bias if b.system == sid]
        return max(mine, key=lambda b: b.date) if mine else None

    def drills_of(self, kind: DrillKind, sid: str | None = None) -> list[Drill]:
        return sorted((d for d in self.drills if d.kind == kind and (sid is None or sid in d.systems)),
                      key=lambda d: d.date)

    def at_dr(self, sid: str, on: dt.date) -> bool:
        return any(c.system == sid and c.since <= on for c in self.reg.dr_coverage)


# --- the rules -------------------------------------------------------------------------------------------

def _bia_missing(r: _Run, rule: Rule) -> None:
    for s in r.reg.systems:
        if r.latest_bia(s.id) is None:
            r.gap(rule, f"{s.id} {s.name}：無營運衝擊分析", f"{s.id} {s.name}: no business impact analysis",
                  system=s.id, record=("systems", s.id))


def _bia_stale(r: _Run, rule: Rule) -> None:
    months = int(rule.params["months"])
    for s in r.reg.systems:
        b = r.latest_bia(s.id)
        if b is None:
            continue
        due = months_after(b.date, months)
        r.due.append(DueItem("bia", s.id, b.date, due, due < r.as_of))
        if due < r.as_of:
            r.gap(rule, f"{s.id}：最近一次營運衝擊分析為 {dual(b.date)}，逾 {months} 個月（應於 {dual(due)} 前重新分析）",
                  f"{s.id}: latest business impact analysis {b.date}, more than {months} months ago "
                  f"(was due by {due})", system=s.id, record=("impact_analyses", b.id), due=due)


def _rto_over_tolerable(r: _Run, rule: Rule) -> None:
    for s in r.reg.systems:
        b = r.latest_bia(s.id)
        if b and b.rto_minutes > b.tolerable_minutes:
            r.gap(rule, f"{s.id}：RTO {_m(b.rto_minutes)} 大於可容忍中斷時間 {_m(b.tolerable_minutes)}",
                  f"{s.id}: RTO {_m(b.rto_minutes)} exceeds the tolerable interruption time "
                  f"{_m(b.tolerable_minutes)}", system=s.id, record=("impact_analyses", b.id))


def _tolerance_class(r: _Run, rule: Rule) -> None:
    classes: list[ToleranceClass] = r.reg.tolerance_classes
    share, ratio = r.profile.brokerage_market_share, r.profile.natural_person_client_ratio
    match = next((c for c in classes if c.matches(share, ratio)), None)
    r.tolerance.update({"class": match.model_dump() if match else None})
    if not classes:
        r.note(rule, "分級表為空（種子文件未給門檻）；本規則未執行", "the tolerance-class table is empty (the seeds "
               "give no thresholds); rule not run")
        return
    if match is None:
        r.note(rule, f"市占率 {share}%、自然人客戶比率 {ratio}% 不屬分級表任一級",
               f"market share {share}% and natural-person ratio {ratio}% fall in no class of the table")
        return
    for s in r.reg.systems:
        b = r.latest_bia(s.id)
        if b and b.tolerable_minutes > match.max_tolerable_minutes:
            r.gap(rule, f"{s.id}：可容忍中斷時間 {_m(b.tolerable_minutes)} 超過第 {match.id} 級上限 "
                  f"{_m(match.max_tolerable_minutes)}（來源：{match.source}）",
                  f"{s.id}: tolerable interruption time {_m(b.tolerable_minutes)} above the maximum of class "
                  f"{match.id}, {_m(match.max_tolerable_minutes)} (source: {match.source})",
                  system=s.id, record=("impact_analyses", b.id))


def _dr_trading_host(r: _Run, rule: Rule) -> None:
    hosts = [s for s in r.reg.systems if s.trading_host]
    if not hosts:
        r.gap(rule, "核心系統清冊未標示交易主機", "no core system is marked as the trading host")
    for s in hosts:
        if not r.at_dr(s.id, r.as_of):
            r.gap(rule, f"{s.id} {s.name}（交易主機）未建置於異地備援機房",
                  f"{s.id} {s.name} (trading host) is not at the off-site backup computer room",
                  system=s.id, record=("systems", s.id))


def dr_milestone(cat: Catalog, ref_id: str) -> dt.date:
    req = cat.version(FRAMEWORK).get(ref_id)
    if req is None or not req.milestones:
        raise ValueError(f"{FRAMEWORK} {ref_id} has no milestone")
    return req.milestones[0].date


def _dr_major_impact(r: _Run, rule: Rule) -> None:
    ms = dr_milestone(r.cat, rule.params["milestone_of"])
    in_force = r.as_of >= ms
    rows = []
    for s in (s for s in r.reg.systems if s.major_impact and not s.trading_host):
        planned = min((c.since for c in r.reg.dr_coverage if c.system == s.id), default=None)
        now = r.at_dr(s.id, r.as_of)
        short = not r.at_dr(s.id, max(ms, r.as_of))
        rows.append({"system": s.id, "name": s.name, "at_dr_now": now,
                     "dr_since": planned.isoformat() if planned else None, "falls_short": short})
        if short:
            when = "planned " + planned.isoformat() + ", after the milestone" if planned else "no DR coverage"
            zh_when = f"規劃於 {dual(planned)}，晚於生效日" if planned else "無異地備援規劃"
            if in_force:
                r.gap(rule, f"{s.id} {s.name}：對營運具重大影響之核心系統未建置於異地備援機房（{zh_when}）",
                      f"{s.id} {s.name}: core system with major impact not at the DR site ({when})",
                      system=s.id, record=("systems", s.id), due=ms)
            else:
                days = (ms - r.as_of).days
                r.gap(rule, f"{s.id} {s.name}：{dual(ms)} 起將不符（尚餘 {days} 天；{zh_when}）",
                      f"{s.id} {s.name}: will fall short on {ms} ({days} days left; {when})",
                      system=s.id, record=("systems", s.id), due=ms, upcoming=True)
    r.dr_outlook = DrOutlook(ms, (ms - r.as_of).days, in_force, rows)


def _bcp_drill_due(r: _Run, rule: Rule) -> None:
    iv = drill_interval(r.cat, r.tier, tier_duty=rule.params["tier_duty"], recurring=rule.params["recurring"],
                        profile=r.profile, profile_key=rule.params.get("profile_key"))
    if not iv.binds:
        r.note(rule, f"{iv.source_zh}；第 {r.tier} 級未列頻率", f"{iv.source}; tier {r.tier} has no frequency")
        return
    months, assumed = iv.months, iv.assumed
    for s in r.reg.systems:
        drills = r.drills_of(DrillKind.bcp, s.id)
        last = drills[-1].date if drills else None
        due = months_after(last, months) if last else None
        overdue = due is None or due < r.as_of
        r.due.append(DueItem("bcp-drill", s.id, last, due, overdue, assumed))
        if overdue:
            zh = f"最近一次演練 {dual(last)}" if last else "無演練紀錄"
            en = f"last drill {last}" if last else "no drill on record"
            r.gap(rule, f"{s.id}：{zh}；第 {r.tier} 級每 {months} 個月{'（假設）' if assumed else ''}",
                  f"{s.id}: {en}; tier {r.tier} every {months} months{' (assumed)' if assumed else ''}",
                  system=s.id, record=("systems", s.id), due=due)
            r.gaps[-1].assumed = assumed


def _drill_third_party(r: _Run, rule: Rule) -> None:
    for d in r.drills:
        if d.third_party_involved and not d.vendors_invited:
            r.gap(rule, f"演練 {d.id}（{dual(d.date)}）範圍涉及第三方，未邀請廠商",
                  f"drill {d.id} ({d.date}) involves a third party but invited no vendor",
                  record=("drills", d.id))


def _shortfalls(d: Drill) -> list[tuple[str, float, float]]:
    out = []
    if d.target_rto_minutes is not None and d.achieved_rto_minutes is not None \
            and d.achieved_rto_minutes > d.target_rto_minutes:
        out.append(("RTO", d.achieved_rto_minutes, d.target_rto_minutes))
    if d.target_rpo_minutes is not None and d.achieved_rpo_minutes is not None \
            and d.achieved_rpo_minutes > d.target_rpo_minutes:
        out.append(("RPO", d.achieved_rpo_minutes, d.target_rpo_minutes))
    return out


def _drill_shortfall(r: _Run, rule: Rule) -> None:
    for d in r.drills:
        for what, got, want in _shortfalls(d):
            r.gap(rule, f"{d.kind.value} {d.id}（{dual(d.date)}，{', '.join(d.systems)}）：實際 {what} {_m(got)}"
                  f"，目標 {_m(want)}",
                  f"{d.kind.value} {d.id} ({d.date}, {', '.join(d.systems)}): achieved {what} {_m(got)}, "
                  f"target {_m(want)}", system=d.systems[0] if len(d.systems) == 1 else None,
                  record=("drills", d.id))


def _drill_over_tolerable(r: _Run, rule: Rule) -> None:
    for d in r.drills:
        if d.achieved_rto_minutes is None:
            continue
        for sid in d.systems:
            bias = [b for b in r.bias if b.system == sid and b.date <= d.date] or \
                [b for b in r.bias if b.system == sid]
            if not bias:
                continue
            b = max(bias, key=lambda x: x.date)
            if d.achieved_rto_minutes > b.tolerable_minutes:
                r.gap(rule, f"{sid}：{d.kind.value} {d.id}（{dual(d.date)}）實際復原 {_m(d.achieved_rto_minutes)}，"
                      f"超過可容忍中斷時間 {_m(b.tolerable_minutes)}",
                      f"{sid}: {d.kind.value} {d.id} ({d.date}) recovered in {_m(d.achieved_rto_minutes)}, over "
                      f"the tolerable interruption time {_m(b.tolerable_minutes)}", system=sid,
                      record=("drills", d.id))


def _yearly(r: _Run, rule: Rule, kind: DrillKind, due_kind: str, zh: str, en: str) -> None:
    if "recurring" in rule.params:
        months = drill_interval(r.cat, r.tier, recurring=rule.params["recurring"]).months
    else:
        months = int(rule.params["months"])
    drills = r.drills_of(kind)
    last = drills[-1].date if drills else None
    due = months_after(last, months) if last else None
    overdue = due is None or due < r.as_of
    r.due.append(DueItem(due_kind, None, last, due, overdue, rule.assumed))
    if overdue:
        r.gap(rule, f"{zh}：" + (f"最近一次 {dual(last)}，逾 {months} 個月" if last else "無紀錄"),
              f"{en}: " + (f"last on {last}, more than {months} months ago" if last else "none on record"),
              due=due)


def _ddos_drill_missing(r: _Run, rule: Rule) -> None:
    _yearly(r, rule, DrillKind.ddos, "ddos-drill", "DDoS 防禦與應變演練", "DDoS defence and response drill")


def _fault_test_missing(r: _Run, rule: Rule) -> None:
    _yearly(r, rule, DrillKind.fault_recovery, "fault-test", "故障復原測試", "fault-recovery test")


def _fault_test_no_review(r: _Run, rule: Rule) -> None:
    for d in r.drills_of(DrillKind.fault_recovery):
        if d.review_meeting_on is None:
            r.gap(rule, f"故障復原測試 {d.id}（{dual(d.date)}）未記錄檢討會議",
                  f"fault-recovery test {d.id} ({d.date}) has no review meeting on record", record=("drills", d.id))


def _fault_test_no_improvements(r: _Run, rule: Rule) -> None:
    for d in r.drills_of(DrillKind.fault_recovery):
        if (d.result != Result.passed or _shortfalls(d)) and not d.improvement_items:
            r.gap(rule, f"故障復原測試 {d.id}（{dual(d.date)}，結果 {d.result.value}）有缺失而未列改善事項",
                  f"fault-recovery test {d.id} ({d.date}, {d.result.value}) has deficiencies but no improvement "
                  f"items", record=("drills", d.id))


def _fallback_plan_missing(r: _Run, rule: Rule) -> None:
    for m in Moment:
        if not any(p.moment == m for p in r.reg.fallback_plans):
            r.gap(rule, f"時間點 {m.value}「{MOMENT_TEXT[m]}」無人工配合之備援計畫",
                  f"moment {m.value} ({MOMENT_TEXT_EN[m]}) has no manual fallback plan")


def _risk_scenario_missing(r: _Run, rule: Rule) -> None:
    for s in r.reg.systems:
        if not any(x.system == s.id for x in r.reg.risk_scenarios):
            r.gap(rule, f"{s.id} {s.name}：未辨識風險情境", f"{s.id} {s.name}: no risk scenario",
                  system=s.id, record=("systems", s.id))


def _risk_scenario_incomplete(r: _Run, rule: Rule) -> None:
    for x in r.reg.risk_scenarios:
        if not (x.response or x.mitigation or x.recovery):
            r.gap(rule, f"{x.system}：風險情境 {x.id}「{x.scenario}」未擬定應變、減災或復原措施",
                  f"{x.system}: risk scenario {x.id} ({x.scenario}) has no response, mitigation or recovery steps",
                  system=x.system, record=("risk_scenarios", x.id))


def _risk_scenario_stale(r: _Run, rule: Rule) -> None:
    months = int(rule.params["months"])
    for s in r.reg.systems:
        mine = [x for x in r.reg.risk_scenarios if x.system == s.id and x.reviewed_on <= r.as_of]
        if not mine:
            continue
        last = max(x.reviewed_on for x in mine)
        due = months_after(last, months)
        r.due.append(DueItem("risk-review", s.id, last, due, due < r.as_of, True))
        if due < r.as_of:
            r.gap(rule, f"{s.id}：風險情境最近檢視 {dual(last)}，逾 {months} 個月",
                  f"{s.id}: risk scenarios last reviewed {last}, more than {months} months ago",
                  system=s.id, due=due)


def _outsourced(r: _Run) -> list[CoreSystem]:
    return [s for s in r.reg.systems if s.outsourced_provider]


def _provider_plan_missing(r: _Run, rule: Rule) -> None:
    for s in _outsourced(r):
        if not any(p.system == s.id and p.received_on <= r.as_of for p in r.reg.provider_plans):
            r.gap(rule, f"{s.id}（委外：{s.outsourced_provider}）未取得回復計畫",
                  f"{s.id} (outsourced to {s.outsourced_provider}): no recovery plan received",
                  system=s.id, record=("systems", s.id))


def _provider_plan_stale(r: _Run, rule: Rule) -> None:
    for s in _outsourced(r):
        mine = [p for p in r.reg.provider_plans if p.system == s.id and p.received_on <= r.as_of]
        if not mine:
            continue
        agreed = s.provider_plan_months is not None
        months = s.provider_plan_months or int(rule.params["months"])
        last = max(mine, key=lambda p: p.received_on)
        due = months_after(last.received_on, months)
        r.due.append(DueItem("provider-plan", s.id, last.received_on, due, due < r.as_of, not agreed))
        if due < r.as_of:
            basis, basis_en = ("約定", "agreed") if agreed else ("建議", "proposed")
            r.gap(rule, f"{s.id}：最近回復計畫 {dual(last.received_on)}，逾{basis}之 {months} 個月",
                  f"{s.id}: latest recovery plan {last.received_on}, older than the {basis_en} {months} months",
                  system=s.id, record=("provider_plans", last.id), due=due)
            r.gaps[-1].assumed = not agreed


CHECKS: dict[str, Callable[[_Run, Rule], None]] = {
    "bia-missing": _bia_missing,
    "bia-stale": _bia_stale,
    "rto-over-tolerable": _rto_over_tolerable,
    "tolerance-class-exceeded": _tolerance_class,
    "dr-trading-host": _dr_trading_host,
    "dr-major-impact": _dr_major_impact,
    "bcp-drill-due": _bcp_drill_due,
    "drill-third-party": _drill_third_party,
    "drill-shortfall": _drill_shortfall,
    "drill-over-tolerable": _drill_over_tolerable,
    "ddos-drill-missing": _ddos_drill_missing,
    "fault-test-missing": _fault_test_missing,
    "fault-test-no-review": _fault_test_no_review,
    "fault-test-no-improvements": _fault_test_no_improvements,
    "fallback-plan-missing": _fallback_plan_missing,
    "risk-scenario-missing": _risk_scenario_missing,
    "risk-scenario-incomplete": _risk_scenario_incomplete,
    "risk-scenario-stale": _risk_scenario_stale,
    "provider-plan-missing": _provider_plan_missing,
    "provider-plan-stale": _provider_plan_stale,
}


def _last_drills(r: _Run) -> list[dict]:
    out = []
    for s in r.reg.systems:
        mine = [d for d in r.drills if s.id in d.systems]
        d = max(mine, key=lambda x: x.date) if mine else None
        b = r.latest_bia(s.id)
        out.append({
            "system": s.id, "name": s.name,
            "tolerable_minutes": b.tolerable_minutes if b else None,
            "drill": None if d is None else {
                "id": d.id, "kind": d.kind.value, "date": d.date.isoformat(), "result": d.result.value,
                "target_rto_minutes": d.target_rto_minutes, "achieved_rto_minutes": d.achieved_rto_minutes,
                "target_rpo_minutes": d.target_rpo_minutes, "achieved_rpo_minutes": d.achieved_rpo_minutes,
            },
        })
    return out


def evaluate(register: Register, profile: BrokerProfile, as_of: dt.date, *, rules: RuleSet | None = None,
             catalog: Catalog | None = None, only: set[str] | None = None) -> Status:
    """Every gap of the register on `as_of`; `only` limits the run to some rule ids (tests, web filters)."""
    cat = catalog or load_catalog()
    rs = rules or default_rules()
    r = _Run(register, profile, as_of, rs, cat)
    r.tolerance = {
        "feeds": {f: getattr(profile, f) for f in TOLERANCE_FEEDS},
        "classes": [c.model_dump() for c in register.tolerance_classes],
        "class": None,
        "note": "種子文件未給分級門檻；分級表預設為空，由券商填入並註明來源。",
        "note_en": "The seeds give no thresholds; the table is empty by default and filled by the broker, "
                   "with its source.",
    }
    for rule in rs:
        if only is not None and rule.id not in only:
            continue
        if rule.id not in CHECKS:
            raise ValueError(f"rules.yaml names rule {rule.id!r}, which the engine does not implement")
        off = [f for f in rule.applies_if if not profile.flag(f)]
        if off:
            r.note(rule, f"不適用：券商基本資料 {', '.join(off)} 為否", f"not applicable: profile {', '.join(off)} "
                   "is false")
            continue
        CHECKS[rule.id](r, rule)
    r.due.sort(key=lambda d: (d.due or dt.date.min, d.kind, d.system or ""))
    return Status(profile.name, as_of, r.tier, cat.current_version_id(FRAMEWORK), r.gaps, r.upcoming,
                  r.dr_outlook, r.due, _last_drills(r), r.tolerance, r.notes)
