"""core.results: ordered severities, and one conversion from login alerts and continuity gaps."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ccinspect.applicability import load_profile
from ccinspect.continuity import evaluate, load_register
from ccinspect.core.errors import InputError
from ccinspect.core.results import (
    EvidenceError,
    Severity,
    Status,
    alert_facts,
    alert_order,
    login_review_results,
)
from ccinspect.detection.pipeline import scan_files

REPO = Path(__file__).resolve().parents[2]
EX = REPO / "examples"


def test_severity_is_ordered_by_rank_not_spelling():
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert sorted(["medium", "critical", "info", "high", "low"], key=Severity) == list(Severity)
    assert max(Severity("high"), Severity("critical")) is Severity.CRITICAL
    assert Severity.HIGH >= "medium" and Severity.HIGH == "high"


def test_alerts_sort_most_severe_first_whatever_the_spelling():
    alerts = [{"id": "A1", "kind": "new_source", "severity": "info", "first": "2024-01-01", "ref_ids": ["X"]},
              {"id": "A2", "kind": "brute_force", "severity": "critical", "first": "2024-01-02", "ref_ids": ["X"]},
              {"id": "A3", "kind": "spray", "severity": "low", "first": "2024-01-01", "ref_ids": ["X"]},
              {"id": "A4", "kind": "stuffing", "severity": "high", "first": "2024-01-03", "ref_ids": ["Y"]}]
    facts = alert_facts(alerts)
    assert [f.data["id"] for f in facts] == ["A2", "A4", "A3", "A1"]  # as strings, "critical" < "high" < "info"
    assert facts[0].severity is Severity.CRITICAL and facts[0].to_dict()["severity"] == "critical"
    assert [f.data["id"] for f in alert_facts(alerts, limit=2)] == ["A2", "A4"]
    res = {r.ref_id: r for r in login_review_results(alerts, ["Z"])}
    assert set(res) == {"X", "Y", "Z"} and all(r.status is Status.MANUAL for r in res.values())
    assert res["Z"].summary == "login monitoring: no alerts" and not res["Z"].checks[0].facts
    assert res["X"].summary == "login monitoring: 3 alert(s): brute_force 1, new_source 1, spray 1"


def test_the_engine_the_inspect_analyzer_and_the_import_agree_on_order(tmp_path):
    logs = sorted((EX / "evidence" / "logins" / "logs").iterdir())
    run = scan_files([str(p) for p in logs], str(EX / "evidence/logins/customers.csv"), hash_inputs=False)
    alerts = [a.as_dict() for a in run.result.alerts]
    assert alerts and alerts == sorted(alerts, key=alert_order)
    facts = alert_facts(alerts)
    assert [f.data["id"] for f in facts] == [a["id"] for a in alerts]
    assert all("from" in f.message and f.data["id"] in f.message for f in facts)


def test_evidence_error_is_an_input_error_with_both_languages():
    e = EvidenceError("staff.csv", 3, "hours", "-1 is negative")
    assert isinstance(e, InputError) and isinstance(e, ValueError)
    assert str(e) == "staff.csv:3: field 'hours': -1 is negative"
    assert e.to_dict() == {"file": "staff.csv", "line": 3, "field": "hours", "message": "-1 is negative"}
    assert e.message_id == "input.invalid" and e.text("zh-Hant") == "staff.csv:3，欄位「hours」：-1 is negative"
    whole = EvidenceError("scan.xml", 0, "(xml)", "not XML").to_dict()
    assert whole["line"] == 0 and whole["file"] == "scan.xml"


def test_continuity_gaps_become_failed_checks_with_their_record():
    st = evaluate(load_register(EX / "continuity"), load_profile(EX / "broker.yaml"), as_of=dt.date(2025, 6, 30))
    checks = [g.to_check() for g in st.gaps]
    assert checks and all(c.status is Status.FAIL and c.analyzer == "continuity" and c.ref_ids for c in checks)
    bia = next(c for c, g in zip(checks, st.gaps, strict=True) if g.rule == "bia-stale")
    assert bia.ref_ids == ("CC-20000.4",) and bia.facts[0].record == "impact_analyses:BIA-2024-MID"
    json.dumps([c.to_dict() for c in checks])
    zh = st.gaps[0].to_check("zh-Hant")
    assert zh.summary == st.gaps[0].message
