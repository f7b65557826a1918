"""Login logs through the real login-monitoring engine (DuckDB), as `inspect` runs it."""

from tests.checks.conftest import run, write


def _logs(n_fail: int) -> str:
    rows = ["ts,account,ip,result"]
    rows += [f"2024-06-27T09:{m:02d}:00+08:00,C{m},61.220.1.{m},success" for m in range(30)]
    rows += [f"2024-06-27T13:{m:02d}:10+08:00,C7,185.220.101.45,failure" for m in range(n_fail)]
    return "\n".join(rows) + "\n"


def test_alerts_become_facts_for_a_manual_review(ev):
    write(ev, "logins/logs/day.csv", _logs(14))
    write(ev, "logins/customers.csv", "account\n" + "\n".join(f"C{m}" for m in range(30)) + "\n")
    checks, rec = run("logins", ev)
    c = checks["login_review"]
    assert rec["status"] == "ran" and c.status.value == "manual" and c.ref_ids == ("CC-18000.4.b",)
    assert any("brute_force" in f.message and "C7" in f.message and "185.220.101.45" in f.message
               for f in c.facts)
    assert "44 login events scanned" in c.summary


def test_quiet_day_has_no_alert_facts(ev):
    write(ev, "logins/logs/day.csv", _logs(0))
    write(ev, "logins/customers.csv", "account\n" + "\n".join(f"C{m}" for m in range(30)) + "\n")
    checks, _ = run("logins", ev)
    assert checks["login_review"].facts == [] and "0 alert(s)" in checks["login_review"].summary


def test_log_without_required_column_errors(ev):
    write(ev, "logins/logs/day.csv", "ts,user,ip,result\n2024-06-27T09:00:00+08:00,C1,1.1.1.1,success\n")
    write(ev, "logins/customers.csv", "account\nC1\n")
    checks, rec = run("logins", ev)
    assert rec["status"] == "error" and rec["error"]["line"] == 1
    assert rec["error"]["file"] == "logins/logs/day.csv" and "account" in rec["error"]["message"]
    assert checks["login_review"].status.value == "error"


def test_no_roster_is_manual_without_running(ev):
    write(ev, "logins/logs/day.csv", _logs(3))
    checks, rec = run("logins", ev)
    assert rec["status"] == "skipped"
    assert "logins/customers.csv" in checks["login_review"].summary


def test_a_damaged_log_beside_a_good_one_is_a_fact_with_what_was_lost(ev):
    write(ev, "logins/logs/day.csv", _logs(14))
    write(ev, "logins/logs/auth.log", "Jun 27 09:00:00 core1 sshd[1]: Failed password for C1 from 61.220.1.9 port 2 ssh2\n"
          + "garbage\n" * 3)
    write(ev, "logins/customers.csv", "account\n" + "\n".join(f"C{m}" for m in range(30)) + "\n")
    checks, rec = run("logins", ev)
    c = checks["login_review"]
    assert rec["status"] == "ran"
    lost = [f for f in c.facts if f.message.startswith("login log partial")]
    assert len(lost) == 1 and "3 of 4 line(s) lost" in lost[0].message and lost[0].file == "logins/logs/auth.log"
