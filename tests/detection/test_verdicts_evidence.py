"""Verdicts honoured by the next run, alerts that explain themselves, notifications, three strikes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.core.errors import InputError
from ccinspect.detection.verdicts import Verdict, VerdictBook

runner = CliRunner()
REAL = Path(__file__).parent / "data" / "real"
SSHD = REAL / "loghub_openssh_2k_head300.log"


def _csv(path: Path, rows: list[tuple]) -> Path:
    path.write_text("ts,account,ip,result\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def brute(tmp_path):
    """One address guessing C1's password 12 times, then getting in; an ordinary customer C2."""
    rows = [(f"2024-05-02T10:00:{k:02d}", "C1", "185.220.1.9", "failure") for k in range(12)]
    rows += [("2024-05-02T10:01:00", "C1", "185.220.1.9", "success"), ("2024-05-02T11:00:00", "C2", "36.224.1.2", "success")]
    ev = _csv(tmp_path / "events.csv", rows)
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nC1\nC2\n", encoding="utf-8")
    return ev, roster


def _scan(ev, roster, state, *extra):
    r = runner.invoke(app, ["logins", "scan", str(ev), "--customers", str(roster), "--state", str(state),
                            "--format", "json", "-q", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_verdict_round_trip_and_validation():
    v = Verdict(alert_id="A00001", verdict="allow", decided_by="analyst1", decided_at="2024-05-03T09:00:00+08:00",
                kind="brute_force", ips=["185.220.1.9"])
    assert v.network == "185.220.1.9/32"
    assert Verdict.from_dict(v.to_dict()) == v
    with pytest.raises(InputError, match="verdict"):
        Verdict(alert_id="A1", verdict="maybe", decided_by="x", decided_at="2024-05-03T09:00:00+08:00")
    with pytest.raises(InputError, match="offset"):
        Verdict(alert_id="A1", verdict="confirmed", decided_by="x", decided_at="2024-05-03T09:00:00")
    with pytest.raises(InputError, match="decided_by"):
        Verdict(alert_id="A1", verdict="confirmed", decided_by=" ", decided_at="2024-05-03T09:00:00+08:00")
    with pytest.raises(InputError, match="unknown field"):
        Verdict.from_dict({**v.to_dict(), "extra": 1})


def test_alert_explains_itself_with_events_at_their_lines(brute, tmp_path):
    ev, roster = brute
    d = _scan(ev, roster, tmp_path / "state")
    bf = next(a for a in d["alerts"] if a["kind"] == "brute_force")
    assert bf["thresholds"]["fired"] and bf["counts"]["failures"] == 12
    assert bf["confidence"] == "high" and bf["confidence_reason"]
    # its 12 failures and the success that followed; the first N shown (rules: evidence_events)
    assert bf["evidence_total"] == 13 and len(bf["evidence"]) == 10
    assert bf["evidence"][0] == {"file": str(ev), "line": "2", "ts": "2024-05-02T10:00:00", "account": "C1",
                                 "ip": "185.220.1.9", "result": "failure"}
    # One notification for C1 however many alerts name it, carrying its alerts and evidence.
    (n,) = d["notifications"]
    assert n["account"] == "C1" and n["confidence"] == "high" and n["alerts"]
    assert n["evidence"] and all(e["account"] == "C1" for e in n["evidence"])
    assert [e["line"] for e in n["evidence"]] == ["14"]  # the success; the guesses are the attacker alert's
    assert bf["id"] in n["alerts"] and len(n["alerts"]) == 2


def test_converted_input_evidence_names_the_reader_line():
    roster = Path("/tmp/x/roster.csv")
    roster.write_text("account\nU1\n", encoding="utf-8")
    r = runner.invoke(app, ["logins", "scan", str(SSHD), "--customers", str(roster), "--year", "2024", "--format", "json", "-q"])
    d = json.loads(r.stdout)
    lines = SSHD.read_text(encoding="utf-8").splitlines()
    checked = 0
    for a in d["alerts"]:
        for e in a["evidence"]:
            n = int(e["line"].split("#")[0])
            assert e["file"] == str(SSHD)
            assert e["ip"] in lines[n - 1] and e["account"] in lines[n - 1]
            checked += 1
    assert checked >= 10


def test_three_strikes_is_a_fact_about_the_system_not_a_customer_alert():
    roster = Path("/tmp/x/roster.csv")
    roster.write_text("account\nU1\n", encoding="utf-8")
    r = runner.invoke(app, ["logins", "scan", str(SSHD), "--customers", str(roster), "--year", "2024", "--format", "json", "-q"])
    d = json.loads(r.stdout)
    (fact,) = d["inspection_facts"]
    assert fact["system"] == str(SSHD) and fact["ref_ids"] == ["CC-18000.3.e"]
    assert fact["thresholds"]["max_consecutive_failures"] == 3 and fact["thresholds"]["max_gap_minutes"] == 10
    assert fact["basis"] == {"CC-18000.3.e": "密碼輸入錯誤次數達三次者，應予中斷連線。"}  # from the catalog
    # Line 29 starts six failures for root within a minute (sshd cut only after the sixth: "6 > 3").
    root = next(x for x in fact["examples"] if x["account"] == "root" and x["line"] == "29")
    assert root["failures"] == 6
    assert "three_strikes" not in {a["kind"] for a in d["alerts"]}
    assert not d["notifications"]


def test_three_failures_then_success_is_within_the_control(tmp_path):
    rows = [(f"2024-05-02T10:00:0{k}", "C1", "36.224.1.2", "failure") for k in range(3)]
    rows += [("2024-05-02T10:00:05", "C1", "36.224.1.2", "success")]
    rows += [(f"2024-05-02T10:10:0{k}", "C1", "36.224.1.2", "failure") for k in range(3)]
    ev = _csv(tmp_path / "e.csv", rows)
    roster = tmp_path / "r.csv"
    roster.write_text("account\nC1\n", encoding="utf-8")
    assert _scan(ev, roster, tmp_path / "s")["inspection_facts"] == []
    # A fourth failure in a row breaks it.
    ev = _csv(tmp_path / "e.csv", [*rows, ("2024-05-02T10:10:09", "C1", "36.224.1.2", "failure")])
    (fact,) = _scan(ev, roster, tmp_path / "s2")["inspection_facts"]
    assert fact["counts"] == {"accounts": 1, "runs_over_limit": 1, "longest_run": 4, "failures_in_runs": 4}
    # The same four failures with an hour's pause are two sessions, each within the control.
    late = [*rows, ("2024-05-02T11:10:09", "C1", "36.224.1.2", "failure")]
    assert _scan(_csv(tmp_path / "e.csv", late), roster, tmp_path / "s3")["inspection_facts"] == []


def test_allow_verdict_suppresses_the_next_run(brute, tmp_path):
    ev, roster = brute
    state, out = tmp_path / "state", tmp_path / "out"
    d = _scan(ev, roster, state, "--out", str(out))
    bf = next(a for a in d["alerts"] if a["kind"] == "brute_force")
    r = runner.invoke(app, ["logins", "verdict", bf["id"], "--verdict", "test_traffic", "--state", str(state),
                            "--by", "analyst1", "--alerts", str(out / "alerts.json"), "--note", "pen test"])
    assert r.exit_code == 0, r.output
    (v,) = VerdictBook.load(state).verdicts
    assert v.decided_by == "analyst1" and v.kind == "brute_force" and v.network == "185.220.1.9/32"
    assert v.decided_at.endswith("+08:00")
    d2 = _scan(ev, roster, state)
    assert not [a for a in d2["alerts"] if "185.220.1.9" in a["ips"]]
    assert d2["notifications"] == [] and d2["summary"]["verdicts_known"] == 1
    assert d2["summary"]["allowlisted_addresses"] == 1


def test_false_positive_verdict_is_recorded_and_kept_from_customers(brute, tmp_path):
    ev, roster = brute
    state, out = tmp_path / "state", tmp_path / "out"
    d = _scan(ev, roster, state, "--out", str(out))
    tk = next(a for a in d["alerts"] if a["kind"] == "account_takeover")
    r = runner.invoke(app, ["logins", "verdict", tk["id"], "--verdict", "false_positive", "--state", str(state),
                            "--by", "analyst2", "--alerts", str(out / "alerts.json")])
    assert r.exit_code == 0, r.output
    d2 = _scan(ev, roster, state)
    tk2 = next(a for a in d2["alerts"] if a["kind"] == "account_takeover")
    assert tk2["verdict"]["decided_by"] == "analyst2" and tk2["confidence"] == "low"
    assert d2["notifications"] == [] and [n["account"] for n in d2["notifications_withheld"]] == ["C1"]
    assert d2["summary"]["alerts_marked_false_positive"] == 1


def test_verdict_needs_a_known_alert_and_a_valid_network(brute, tmp_path):
    ev, roster = brute
    state, out = tmp_path / "state", tmp_path / "out"
    _scan(ev, roster, state, "--out", str(out))
    r = runner.invoke(app, ["logins", "verdict", "A99999", "--verdict", "confirmed", "--state", str(state),
                            "--by", "a", "--alerts", str(out / "alerts.json")])
    assert r.exit_code != 0 and "A99999" in r.output
    r = runner.invoke(app, ["logins", "verdict", "A00001", "--verdict", "allow", "--state", str(state),
                            "--by", "a", "--network", "not-a-net"])
    assert r.exit_code != 0 and "not-a-net" in r.output
    assert VerdictBook.load(state).verdicts == []


def test_broker_chooses_which_confidence_reaches_customers(tmp_path):
    from ccinspect.detection.rules import default_rules_path  # noqa: PLC0415

    roster = tmp_path / "roster.csv"
    roster.write_text("account\nC2\n", encoding="utf-8")
    day1 = _csv(tmp_path / "d1.csv", [("2024-05-01T09:00:00", "C2", "36.224.1.2", "success")])
    # Day 2: one failure on C2 from elsewhere, then C2 logs in from an address block it never used.
    day2 = _csv(tmp_path / "d2.csv", [("2024-05-02T09:00:00", "C2", "1.2.3.4", "failure"),
                                      ("2024-05-02T09:30:00", "C2", "114.24.5.6", "success")])
    medium = tmp_path / "rules.yaml"
    medium.write_text(default_rules_path().read_text(encoding="utf-8").replace("min_confidence: high", "min_confidence: medium", 1),
                      encoding="utf-8")
    for rules, sent in ((None, False), (medium, True)):
        state = tmp_path / f"state-{sent}"
        extra = ["--rules", str(rules)] if rules else []
        _scan(day1, roster, state, *extra)
        d = _scan(day2, roster, state, *extra)
        ns = next(a for a in d["alerts"] if a["kind"] == "new_source")
        assert ns["confidence"] == "medium" and "after failed logins" in ns["confidence_reason"]
        assert [n["account"] for n in d["notifications"]] == (["C2"] if sent else [])
        assert [n["account"] for n in d["notifications_withheld"]] == ([] if sent else ["C2"])
