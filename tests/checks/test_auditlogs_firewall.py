from tests.checks.conftest import run, write

INV = "system,kind,file,first_date,last_date,system_since\n"


def test_samples_pass_and_fail(ev):
    write(ev, "auditlogs/samples/a.csv", "timestamp,user_id,source_ip\n2024-06-01T08:00:00+08:00,u1,10.0.0.1\n")
    write(ev, "auditlogs/samples/b.jsonl", '{"time": "2024-06-01 09:00:00", "user": "u2", "ip": "10.0.0.2"}\n')
    checks, _ = run("auditlogs", ev)
    assert checks["record_fields"].status.value == "pass"
    assert checks["audit_retention"].status.value == "manual"  # no inventory supplied
    write(ev, "auditlogs/samples/b.jsonl", '{"time": "2024-06-01 09:00:00", "user": "u2", "ip": "10.0.0.2"}\n'
                                           '{"time": "2024-06-01 09:01:00", "user": "", "ip": "10.0.0.3"}\n')
    write(ev, "auditlogs/samples/c.csv", "timestamp,user_id,action\n2024-06-01T08:00:00,u1,login\n")
    checks, _ = run("auditlogs", ev)
    f = checks["record_fields"].facts
    assert checks["record_fields"].status.value == "fail"
    assert any(x.file == "auditlogs/samples/b.jsonl" and x.line == 2 and "user id" in x.message for x in f)
    assert any(x.file == "auditlogs/samples/c.csv" and "no source address field" in x.message for x in f)


def test_sample_with_bad_timestamp_errors(ev):
    write(ev, "auditlogs/samples/a.csv", "timestamp,user_id,source_ip\n2024-06-01T08:00:00,u1,10.0.0.1\n"
                                         "yesterday,u2,10.0.0.2\n")
    _, rec = run("auditlogs", ev)
    assert rec["error"] == {"file": "auditlogs/samples/a.csv", "line": 3, "field": "timestamp",
                            "message": "'yesterday' is not an ISO date-time"}


def test_retention_three_years_and_gaps(ev):
    write(ev, "auditlogs/inventory.csv", INV
          + "core,audit,2021.tgz,2021-01-01,2022-12-31,2015-01-01\n"
          + "core,audit,2023.tgz,2023-01-01,2024-06-29,\n"
          + "fw1,firewall,a.gz,2021-06-30,2022-05-31,2010-01-01\n"
          + "fw1,firewall,b.gz,2022-09-01,2024-06-30,\n"
          + "fw2,firewall,c.gz,2022-01-01,2024-06-30,2021-12-15\n"   # young firewall: since start, 14 days short
          + "fw3,firewall,d.gz,2021-06-01,2024-05-01,\n")            # stale: ends two months ago
    checks, _ = run("auditlogs", ev)
    assert checks["audit_retention"].status.value == "pass"
    fw = checks["firewall_retention"]
    assert fw.status.value == "fail"
    msgs = {f.subject: f.message for f in fw.facts}
    assert "no firewall logs from 2022-06-01 to 2022-08-31" in msgs["fw1"]
    assert "requires logs from 2021-12-15" in msgs["fw2"]
    assert "newest firewall log ends 2024-05-01" in msgs["fw3"]
    assert fw.ref_ids == ("CC-17010.b.c",)


def test_inventory_dates_reversed_is_malformed(ev):
    write(ev, "auditlogs/inventory.csv", INV + "core,audit,x,2024-01-01,2023-01-01,\n")
    checks, rec = run("auditlogs", ev)
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "last_date")
    assert checks["audit_retention"].status.value == "error"


REV = "firewall,review_date,reviewer,approved_by\n"


def test_firewall_reviews(ev):
    write(ev, "firewall/rule_reviews.csv", REV + "fw1,2024-02-01,Hsu,Cheng\n")
    checks, _ = run("firewall", ev)
    assert checks["rule_review"].status.value == "pass"
    write(ev, "firewall/rule_reviews.csv", REV + "fw1,2024-02-01,Hsu,\nfw2,2023-05-01,Hsu,Cheng\n")
    write(ev, "auditlogs/inventory.csv", INV + "fw3,firewall,x,2021-01-01,2024-06-30,\n")
    checks, _ = run("firewall", ev)
    subjects = sorted(f.subject for f in checks["rule_review"].facts)
    assert subjects == ["fw1", "fw2", "fw3"]  # no approver; stale; never reviewed
    write(ev, "firewall/rule_reviews.csv", REV + "fw1,someday,Hsu,Cheng\n")
    _, rec = run("firewall", ev)
    assert (rec["error"]["file"], rec["error"]["line"], rec["error"]["field"]) == (
        "firewall/rule_reviews.csv", 2, "review_date")


def test_real_evtx_sample_through_the_login_readers(ev):
    import shutil
    from pathlib import Path

    src = Path(__file__).parent / "data" / "auditlogs" / "Security_short_selected.evtx"
    (ev / "auditlogs/samples").mkdir(parents=True)
    shutil.copy(src, ev / "auditlogs/samples/dc01.evtx")
    checks, rec = run("auditlogs", ev)
    c = checks["record_fields"]
    assert rec["status"] == "ran" and c.status.value == "pass"
    assert "all 2 sampled records" in c.summary  # the 4625 and the 4776; other events are no logons
    # A truncated copy beside it: named, and the good file still judged
    data = src.read_bytes()
    (ev / "auditlogs/samples/dc02.evtx").write_bytes(data[: len(data) // 2])
    write(ev, "auditlogs/samples/app.csv", "user_id,timestamp,source_ip\n,2024-06-01T10:00:00,10.0.0.1\n")
    checks, rec = run("auditlogs", ev)
    c = checks["record_fields"]
    bad = {e["file"] for e in rec["errors"]}
    assert bad == {"auditlogs/samples/dc02.evtx"}
    assert c.status.value == "fail" and [f.file for f in c.facts] == ["auditlogs/samples/app.csv"]
    assert c.unusable[0]["file"] == "auditlogs/samples/dc02.evtx"
