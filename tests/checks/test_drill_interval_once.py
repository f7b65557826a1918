"""BCP and DDoS drill intervals are judged once (continuity/intervals.py): the evidence analyzer and the
continuity register reach the same verdict on the same broker and the same drill dates."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.checks.conftest import write
from tests.continuity.conftest import clean_data, profile, register

from ccinspect.catalog import load_catalog
from ccinspect.checks.rules import load_rules
from ccinspect.checks.runner import Context, active_rules, match_files, registry, run_analyzer
from ccinspect.continuity import evaluate
from ccinspect.continuity.intervals import drill_interval

AS_OF = dt.date(2025, 6, 30)
DRILLS = ("date,kind,system,tolerable_interruption_min,target_rto_min,achieved_rto_min,"
          "target_rpo_min,achieved_rpo_min,result\n")


def analyzer_verdict(root, prof, bcp_date: str, ddos_date: str) -> dict:
    write(root, "bcp/drills.csv", DRILLS + f"{bcp_date},bcp,TRD,60,30,20,5,0,passed\n"
                                           f"{ddos_date},ddos,TRD,,,,,,passed\n")
    spec = load_rules().analyzers["bcp"]
    files = match_files(root, spec)
    ctx = Context("bcp", spec, root, files, active_rules(spec, files), AS_OF, 3, [], prof)
    checks, _ = run_analyzer("bcp", registry()["bcp"], ctx)
    return {c.rule: c for c in checks}


def register_gaps(prof, bcp_date: str, ddos_date: str) -> set[str]:
    data = clean_data()
    data["systems"] = data["systems"][:1]
    data["drills"][0].update(date=bcp_date, systems=["TRD"])
    data["drills"][1].update(date=ddos_date)
    return {g.rule for g in evaluate(register(data), prof, AS_OF).gaps}


@pytest.mark.parametrize("own, bcp_date, due", [
    (None, "2024-09-01", False),   # 10 months: within the assumed yearly interval
    (None, "2024-05-01", True),    # 14 months
    (6, "2024-09-01", True),       # the broker's own 6 months
    (6, "2025-02-01", False),
])
def test_bcp_drill_same_verdict(tmp_path, own, bcp_date, due):
    prof = profile(assumed_intervals={"bcp.drill_rto": own} if own else {})
    checks = analyzer_verdict(tmp_path, prof, bcp_date, "2025-03-01")
    assert (checks["drill_rto"].status.value == "fail") is due
    assert ("bcp-drill-due" in register_gaps(prof, bcp_date, "2025-03-01")) is due
    if own:
        assert "broker's own interval" in checks["drill_rto"].summary
    else:
        assert "an assumption: the text says only 定期" in checks["drill_rto"].summary


@pytest.mark.parametrize("ddos_date, due", [("2024-07-01", False), ("2024-06-29", True)])
def test_ddos_drill_same_verdict(tmp_path, ddos_date, due):
    prof = profile()
    checks = analyzer_verdict(tmp_path, prof, "2025-04-01", ddos_date)
    assert (checks["ddos_drill"].status.value == "fail") is due
    assert ("ddos-drill-missing" in register_gaps(prof, "2025-04-01", ddos_date)) is due


def test_interval_rests_on_recurring_assumption_and_tier():
    cat = load_catalog()
    iv = drill_interval(cat, 3, tier_duty="bcp-drill", recurring="bcp-drill")
    assert (iv.months, iv.assumed, iv.binds) == (12, True, True)
    assert not drill_interval(cat, 4, tier_duty="bcp-drill", recurring="bcp-drill").binds
    assert drill_interval(cat, 3, recurring="ddos-drill").assumed is False
