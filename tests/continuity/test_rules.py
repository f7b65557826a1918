"""The gap rules, table-driven: break one thing in a clean register and expect exactly that rule to fire."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from tests.continuity.conftest import AS_OF, clean_data, profile, register

from ccinspect.continuity import (
    CHECKS,
    RulesError,
    default_rules,
    dr_milestone,
    evaluate,
    load_rules,
)
from ccinspect.continuity.rules import RULES_PATH


def gap_rules(data: dict, as_of: dt.date = AS_OF, **prof) -> list[str]:
    return sorted(g.rule for g in evaluate(register(data), profile(**prof), as_of).gaps)


def test_clean_register_has_no_gaps(data):
    st = evaluate(register(data), profile(), AS_OF)
    assert st.gaps == []
    assert st.upcoming == []
    assert st.tier == 3


def _set(kind, idx, **kw):
    def f(d):
        d[kind][idx].update(kw)
    return f


def _drop(kind, pred):
    def f(d):
        d[kind] = [r for r in d[kind] if not pred(r)]
    return f


def _add(kind, rec):
    def f(d):
        d[kind].append(rec)
    return f


CASES = [
    # RTO vs tolerable interruption time
    ("rto above tolerable", _set("impact_analyses", 0, rto_minutes=61), AS_OF, ["rto-over-tolerable"]),
    ("rto equal to tolerable is fine", _set("impact_analyses", 0, rto_minutes=60), AS_OF, []),
    # BIA missing / stale (12 months)
    ("no BIA for a system", _drop("impact_analyses", lambda r: r["system"] == "MID"), AS_OF, ["bia-missing"]),
    ("BIA 12 months old to the day is fine", _set("impact_analyses", 1, date="2024-06-30"), AS_OF, []),
    ("BIA 12 months and a day old", _set("impact_analyses", 1, date="2024-06-29"), AS_OF, ["bia-stale"]),
    ("BIA dated after the as-of date does not count",
     _set("impact_analyses", 1, date="2025-07-01"), AS_OF, ["bia-missing"]),
    ("ROC date accepted", _set("impact_analyses", 1, date="113/06/29"), AS_OF, ["bia-stale"]),
    # DR site: trading host now
    ("trading host not at DR", _drop("dr_coverage", lambda r: r["system"] == "TRD"), AS_OF, ["dr-trading-host"]),
    ("trading host DR planned later",
     _set("dr_coverage", 0, since="2025-09-01"), AS_OF, ["dr-trading-host"]),
    ("no trading host marked", _set("systems", 0, trading_host=False), AS_OF, ["dr-trading-host"]),
    # DR site: major impact, before and after 2027-12-31
    ("major impact without DR before the milestone: no gap yet",
     _drop("dr_coverage", lambda r: r["system"] == "MID"), dt.date(2027, 12, 30), []),
    ("major impact without DR on the milestone",
     _drop("dr_coverage", lambda r: r["system"] == "MID"), dt.date(2027, 12, 31), ["dr-major-impact"]),
    ("non-major system needs no DR", _set("systems", 2, major_impact=False), dt.date(2027, 12, 31), []),
    # drills
    ("no DDoS drill", _drop("drills", lambda r: r["kind"] == "ddos"), AS_OF, ["ddos-drill-missing"]),
    ("DDoS drill 13 months old", _set("drills", 1, date="2024-05-30"), AS_OF, ["ddos-drill-missing"]),
    ("drill RTO worse than target", _set("drills", 0, achieved_rto_minutes=31), AS_OF, ["drill-shortfall"]),
    ("drill RPO worse than target", _set("drills", 0, achieved_rpo_minutes=6), AS_OF, ["drill-shortfall"]),
    ("drill RTO over target and tolerable time",
     _set("drills", 0, achieved_rto_minutes=61), AS_OF,
     ["drill-over-tolerable", "drill-over-tolerable", "drill-over-tolerable", "drill-shortfall"]),
    ("fault-recovery test without review meeting", _set("drills", 2, review_meeting_on=None), AS_OF,
     ["fault-test-no-review"]),
    ("failed fault test without improvement items", _set("drills", 2, result="failed"), AS_OF,
     ["fault-test-no-improvements"]),
    ("failed fault test with improvement items",
     _set("drills", 2, result="failed", improvement_items=["更新切換腳本"]), AS_OF, []),
    ("no fault-recovery test", _drop("drills", lambda r: r["kind"] == "fault_recovery"), AS_OF,
     ["fault-test-missing"]),
    ("third party involved, nobody invited", _set("drills", 1, vendors_invited=[]), AS_OF, ["drill-third-party"]),
    ("BCP drill missed a system (tier 3)", _set("drills", 0, systems=["TRD", "MID"]), AS_OF, ["bcp-drill-due"]),
    ("BCP drill too old (tier 3)", _set("drills", 0, date="2024-06-01", review_meeting_on=None), AS_OF,
     ["bcp-drill-due"] * 3),
    # fallback plans for the five moments
    ("no plan for moment 5", _drop("fallback_plans", lambda r: r["moment"] == "5"), AS_OF,
     ["fallback-plan-missing"]),
    ("no plans at all", _drop("fallback_plans", lambda r: True), AS_OF, ["fallback-plan-missing"] * 5),
    # risk scenarios
    ("system without risk scenario", _drop("risk_scenarios", lambda r: r["system"] == "RPT"), AS_OF,
     ["risk-scenario-missing"]),
    ("risk scenario without steps", _set("risk_scenarios", 0, response=None), AS_OF, ["risk-scenario-incomplete"]),
    ("risk scenario with mitigation only", _set("risk_scenarios", 0, response=None, mitigation="分流"), AS_OF, []),
    ("risk scenarios stale", _set("risk_scenarios", 2, reviewed_on="2024-01-01"), AS_OF, ["risk-scenario-stale"]),
    # outsourced systems' recovery plans
    ("no provider plan", _drop("provider_plans", lambda r: True), AS_OF, ["provider-plan-missing"]),
    ("provider plan older than the agreed 12 months", _set("provider_plans", 0, received_on="2024-06-01"), AS_OF,
     ["provider-plan-stale"]),
    ("agreed 6 months: a 7-month-old plan is stale",
     lambda d: (d["systems"][2].update(provider_plan_months=6), d["provider_plans"][0].update(
         received_on="2024-11-29")), AS_OF, ["provider-plan-stale"]),
]


@pytest.mark.parametrize("name,mutate,as_of,expected", CASES, ids=[c[0] for c in CASES])
def test_rule(name, mutate, as_of, expected):
    data = clean_data()
    # Far-future dates would make the clean register's yearly duties stale: move them along.
    if as_of.year > 2025:
        _shift_to(data, as_of)
    mutate(data)
    assert gap_rules(data, as_of) == sorted(expected)


def _shift_to(data: dict, as_of: dt.date) -> None:
    """Re-date every dated record to shortly before `as_of` (keeps DR coverage dates)."""
    recent = (as_of - dt.timedelta(days=30)).isoformat()
    for kind, fields in (("impact_analyses", ["date"]), ("drills", ["date", "review_meeting_on"]),
                         ("risk_scenarios", ["reviewed_on"]), ("provider_plans", ["received_on"])):
        for rec in data[kind]:
            for f in fields:
                if rec.get(f):
                    rec[f] = recent


def test_dr_outlook_countdown_and_planned_coverage():
    data = clean_data()
    data["dr_coverage"] = [c for c in data["dr_coverage"] if c["system"] != "MID"]
    data["systems"][2]["major_impact"] = True  # RPT
    data["dr_coverage"].append({"system": "RPT", "site": "台中", "since": "2027-06-30"})  # planned in time
    st = evaluate(register(data), profile(), AS_OF)
    ms = dr_milestone(default_rules().catalog, "CC-20000.八")
    assert ms == dt.date(2027, 12, 31)
    o = st.dr_outlook
    assert o.days_left == (ms - AS_OF).days == 914 and not o.in_force
    by = {s["system"]: s for s in o.systems}
    assert by["MID"]["falls_short"] and not by["MID"]["at_dr_now"]
    assert not by["RPT"]["falls_short"] and not by["RPT"]["at_dr_now"]
    assert "TRD" not in by  # the trading host is today's duty, not the extension's
    assert [(g.rule, g.system, g.due) for g in st.upcoming] == [("dr-major-impact", "MID", ms)]
    assert "914" in st.upcoming[0].message_en
    assert st.gaps == []


def test_dr_coverage_planned_after_the_milestone_falls_short():
    data = clean_data()
    data["dr_coverage"][1]["since"] = "2028-03-01"
    st = evaluate(register(data), profile(), AS_OF)
    assert [g.system for g in st.upcoming] == ["MID"]
    assert "2028-03-01" in st.upcoming[0].message_en


def test_gaps_name_both_versions_where_the_amendment_changed_the_clause(data):
    data["dr_coverage"] = []
    st = evaluate(register(data), profile(), AS_OF)
    (g,) = [g for g in st.gaps if g.rule == "dr-trading-host"]
    assert [(c.version, c.ref_id, c.changed_by_amendment) for c in g.clauses] == [
        ("amended", "CC-20000.八", True), ("pre-amendment", "CC-20000.七", True)]
    assert "交易主機應有備援措施" in g.clauses[1].text  # the pre-amendment text, from the catalog
    assert "對營運具重大影響之核心系統" in g.clauses[0].text
    assert g.mechanism == ["CC-20000.3"]
    data2 = clean_data()
    data2["drills"][2]["review_meeting_on"] = None
    (g2,) = evaluate(register(data2), profile(), AS_OF).gaps
    assert [(c.version, c.ref_id, c.changed_by_amendment) for c in g2.clauses] == [
        ("amended", "CC-20000.十二", False)]


def test_ddos_rule_names_the_changed_clause_in_both_versions():
    rs = default_rules()
    clauses = rs.clauses("ddos-drill-missing")
    assert {c.version for c in clauses} == {"amended", "pre-amendment"}
    assert "並每年進行演練" in clauses[0].text and "並每年進行演練" not in clauses[1].text


def test_tier_4_is_not_bound_by_the_bcp_drill_duty(data):
    data["drills"] = [d for d in data["drills"] if d["kind"] != "bcp"]
    assert gap_rules(data, capital="30億") == []  # tier 4
    st = evaluate(register(data), profile(capital="30億"), AS_OF)
    assert st.tier == 4
    assert any(n["rule"] == "bcp-drill-due" for n in st.notes)
    gaps = evaluate(register(data), profile(), AS_OF).gaps  # tier 3
    assert sorted(g.system for g in gaps if g.rule == "bcp-drill-due") == ["MID", "RPT", "TRD"]
    assert all(g.assumed for g in gaps if g.rule == "bcp-drill-due")  # the seeds say only 定期


def test_tolerance_table_is_empty_by_default_and_names_its_feeds(data):
    st = evaluate(register(data), profile(), AS_OF)
    assert st.tolerance["classes"] == []
    assert st.tolerance["feeds"] == {"internet_orders": True, "brokerage_market_share": 1.5,
                                     "natural_person_client_ratio": 80.0}
    assert any(n["rule"] == "tolerance-class-exceeded" for n in st.notes)


def test_tolerance_class_from_the_broker_table(data):
    data["tolerance_classes"] = [
        {"id": "A", "market_share_min": 1, "natural_person_ratio_min": 50, "max_tolerable_minutes": 45,
         "source": "test fixture"},
        {"id": "B", "market_share_max": 1, "max_tolerable_minutes": 120, "source": "test fixture"},
    ]
    st = evaluate(register(data), profile(), AS_OF)
    assert st.tolerance["class"]["id"] == "A"
    assert sorted(g.system for g in st.gaps if g.rule == "tolerance-class-exceeded") == ["MID", "RPT", "TRD"]
    assert gap_rules(data, brokerage_market_share=0.5) == []  # class B, 120 min: 60 is fine
    assert gap_rules(data, internet_orders=False) == []  # the last sentence binds internet-order brokers only


def test_not_a_brokerage_skips_the_dr_rules(data):
    data["dr_coverage"] = []
    assert gap_rules(data, securities_brokerage=False) == []
    assert gap_rules(data) == ["dr-trading-host"]


def test_every_rule_has_an_engine_check_and_back():
    assert {r.id for r in default_rules()} == set(CHECKS)


def test_rules_file_rejects_a_changed_clause_named_in_one_version_only(tmp_path):
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "bia-stale")
    del rule["clauses"]["pre-amendment"]
    p = tmp_path / "rules.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match=r"bia-stale.*pre-amendment"):
        load_rules(p)


def test_rules_file_rejects_an_unknown_clause(tmp_path):
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    data["rules"][0]["clauses"]["amended"] = ["CC-20000.十七"]
    p = tmp_path / "rules.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match=r"CC-20000\.十七 is not in internal-control/amended"):
        load_rules(p)


def test_docs_list_every_rule_with_its_clauses():
    text = (Path(__file__).resolve().parents[2] / "docs" / "continuity.md").read_text(encoding="utf-8")
    for r in default_rules():
        (row,) = [line for line in text.splitlines() if line.startswith(f"| `{r.id}` |")]
        for ref in r.clauses["amended"]:
            assert ref in row, (r.id, ref)
