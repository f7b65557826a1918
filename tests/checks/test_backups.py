"""Backups: consecutive failures, missed nights, offline copies and restore tests (documented CSV)."""

from __future__ import annotations

import datetime as dt

from tests.checks.conftest import run, write

AS_OF = dt.date(2025, 6, 30)
HEAD = "job,date,result,copy\n"


def nightly(job: str, start: dt.date, days: int, failed: set[int] = frozenset(), skip: set[int] = frozenset(),
            copy: str = "offline") -> str:
    out = []
    for i in range(days):
        if i in skip:
            continue
        d = start + dt.timedelta(days=i)
        out.append(f"{job},{d},{'failed' if i in failed else 'success'},{copy}\n")
    return "".join(out)


def test_clean_backups_pass(ev):
    write(ev, "backups/jobs.csv", HEAD + nightly("core-db", dt.date(2025, 5, 1), 61))
    write(ev, "backups/restore_tests.csv", "job,date,result\ncore-db,2025-03-01,passed\n")
    checks, _ = run("backups", ev, AS_OF)
    assert {r: c.status.value for r, c in checks.items()} == {"failures": "pass", "offline_copy": "pass",
                                                             "restore_test": "pass"}
    assert "assumed" in checks["restore_test"].summary or "定期" in checks["restore_test"].summary


def test_five_failed_nights_missed_nights_no_offline_copy_stale_restore(ev):
    start = dt.date(2025, 5, 1)  # runs through 2025-06-30; nights 55..59 (2025-06-25..29) failed
    write(ev, "backups/jobs.csv", HEAD + nightly("core-db", start, 61, failed=set(range(55, 60)))
          + nightly("mail", start, 61, skip={40, 41, 42}, copy="disk"))
    write(ev, "backups/restore_tests.csv", "job,date,result\ncore-db,2024-05-01,passed\nmail,2025-06-01,failed\n")
    checks, _ = run("backups", ev, AS_OF)
    fails = {f.subject: f.message for f in checks["failures"].facts if "consecutive" in f.message}
    assert "5 consecutive failed runs from 2025-06-25 to 2025-06-29" in fails["core-db"]
    missed = [f.message for f in checks["failures"].facts if "night(s)" in f.message]
    assert any(m.startswith("core-db: 5 night(s)") for m in missed)
    assert any(m.startswith("mail: 3 night(s)") for m in missed)
    assert [f.subject for f in checks["offline_copy"].facts] == ["mail"]
    restore = {f.subject: f.message for f in checks["restore_test"].facts}
    assert "last 2024-05-01 (passed)" in restore["core-db"] and "last 2025-06-01 (failed)" in restore["mail"]


def test_bad_row_is_located_and_other_files_still_count(ev):
    write(ev, "backups/jobs.csv", HEAD + nightly("core-db", dt.date(2025, 6, 1), 30))
    write(ev, "backups/jobs_nas.csv", HEAD + "nas,2025-06-30,maybe,offline\n")
    checks, rec = run("backups", ev, AS_OF)
    assert rec["errors"][0]["file"] == "backups/jobs_nas.csv" and rec["errors"][0]["line"] == 2
    assert checks["failures"].status.value == "partial"  # judged on the readable file, which is clean
    assert [u["file"] for u in checks["failures"].unusable] == ["backups/jobs_nas.csv"]
