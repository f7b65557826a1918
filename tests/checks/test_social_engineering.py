"""Social-engineering drills: a two-year-old drill and untrained failures are noticed."""

from __future__ import annotations

import datetime as dt

from tests.checks.conftest import run, write

AS_OF = dt.date(2025, 6, 30)
HEAD = "date,employee_id,result,retrained_on\n"


def test_recent_drill_with_retraining_passes(ev):
    write(ev, "drills/social_engineering.csv", HEAD + "2025-03-12,E1,passed,\n2025-03-12,E2,failed,2025-04-02\n")
    checks, _ = run("social_engineering", ev, AS_OF)
    assert {r: c.status.value for r, c in checks.items()} == {"drill": "pass", "retraining": "pass"}


def test_two_year_old_drill_and_no_retraining(ev):
    write(ev, "drills/social_engineering_2023.csv", HEAD + "2023-06-01,E1,failed,\n2023-06-01,E2,failed,2023-05-01\n"
                                                          "2023-06-01,E3,passed,\n")
    checks, _ = run("social_engineering", ev, AS_OF)
    assert "no social-engineering drill since 2024-06-30; last 2023-06-01" in checks["drill"].facts[0].message
    got = {f.subject: (f.line, f.message) for f in checks["retraining"].facts}
    assert got["E1"][0] == 2 and "no retraining recorded" in got["E1"][1]
    assert "not between the drill" in got["E2"][1]


def test_bad_result_is_located(ev):
    write(ev, "drills/social_engineering.csv", HEAD + "2025-03-12,E1,clicked,\n")
    checks, rec = run("social_engineering", ev, AS_OF)
    assert (rec["errors"][0]["line"], rec["errors"][0]["field"]) == (2, "result")
    assert checks["drill"].status.value == "error"
