"""Accounts as Active Directory exports them: Get-ADUser | Export-Csv (PowerShell 5.1 with its #TYPE line,
and 7), csvde and ldifde (tests/checks/data/directory, see its README)."""

import datetime as dt
import shutil
from pathlib import Path

from tests.checks.conftest import run, write

from ccinspect.checks.accounts import ad_date, filetime, load_accounts

DATA = Path(__file__).parent / "data" / "directory"


def _folder(ev, *names):
    for n in names:
        (ev / "accounts").mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / n, ev / "accounts" / n)
    write(ev, "hr/leavers.csv", "employee_id,name,leave_date\nE1009,Gina Kao,2024-06-01\n")
    write(ev, "approvals/privileged_accounts.csv", "system,user,approved_by,approved_on\n")


def test_powershell_51_export_with_type_line(ev):
    _folder(ev, "ad_ps51.csv")
    checks, rec = run("accounts", ev)
    assert rec["status"] == "ran"
    dormant = sorted(f.subject for f in checks["dormant"].facts)
    # 'lagging' is 188 days unused: within 180 days plus the 14-day lastLogonTimestamp tolerance
    assert dormant == ["ad_ps51/dormant1", "ad_ps51/neverin"]
    assert "14-day lag" in next(f.message for f in checks["dormant"].facts if f.subject == "ad_ps51/dormant1")
    assert [f.subject for f in checks["default_names"].facts] == ["ad_ps51/administrator"]
    assert [f.subject for f in checks["privileged_approval"].facts] == ["ad_ps51/administrator"]
    leavers = checks["leavers"].facts
    assert {f.subject for f in leavers} == {"ad_ps51/gone"} and len(leavers) == 2
    assert checks["shared"].facts == []  # svc_backup's Manager stands as its one responsible owner
    first = checks["dormant"].facts[0]
    assert first.file == "accounts/ad_ps51.csv" and first.line == 4  # the #TYPE line counts


def test_powershell_7_zh_tw_dates_and_chinese_owner_separators(ev):
    _folder(ev, "ad_ps7_zhtw.csv")
    checks, _ = run("accounts", ev)
    shared = checks["shared"].facts
    assert [f.subject for f in shared] == ["ad_ps7_zhtw/ops_team"] and "2 employees" in shared[0].message
    accts = {a.user: a for a in load_accounts(DATA / "ad_ps7_zhtw.csv", "x")}
    assert accts["chen.wt"].last_login == dt.date(2024, 6, 27)
    assert accts["chen.wt"].password_set == dt.date(2024, 5, 1)


def test_csvde_and_ldifde(ev):
    _folder(ev, "csvde_users.csv", "ldifde_users.ldf")
    checks, rec = run("accounts", ev)
    assert rec["status"] == "ran"
    assert sorted(f.subject for f in checks["dormant"].facts) == ["csvde_users/stale", "ldifde_users/stale2"]
    assert [f.subject for f in checks["privileged_approval"].facts] == ["ldifde_users/alice3"]
    accts = {a.user: a for a in load_accounts(DATA / "ldifde_users.ldf", "x", {"domain admins"})}
    assert accts["alice3"].password_never_expires is True and accts["alice3"].privileged
    assert accts["stale2"].name == "陳文德"  # base64 value
    assert accts["stale2"].line == 17  # the record's first line
    off = {a.user: a for a in load_accounts(DATA / "csvde_users.csv", "x")}["offo"]
    assert off.enabled is False  # userAccountControl 514: ACCOUNTDISABLE


def test_ad_dates():
    assert filetime("133638237020000000", "f", 1, "x") == dt.date(2024, 6, 26)  # 21:15 UTC is the next day in Taipei
    assert filetime("0", "f", 1, "x") is None and filetime("9223372036854775807", "f", 1, "x") is None
    assert ad_date("20200115000000.0Z", "f", 1, "x") == dt.date(2020, 1, 15)
    assert ad_date("31/05/2024 09:15:02", "f", 1, "x") == dt.date(2024, 5, 31)
    assert ad_date("2024/5/31 下午 03:15:02", "f", 1, "x") == dt.date(2024, 5, 31)


def test_bad_ad_value_names_file_line_field_and_other_files_still_count(ev):
    _folder(ev, "ad_ps51.csv")
    write(ev, "accounts/broken.csv", '"SamAccountName","Enabled","LastLogonDate"\n"x","Maybe","1/1/2024"\n')
    checks, rec = run("accounts", ev)
    assert rec["status"] == "partial"
    assert rec["errors"] == [{"file": "accounts/broken.csv", "line": 2, "field": "Enabled",
                              "message": "'Maybe' is not True/False"}]
    assert checks["dormant"].status.value == "fail" and len(checks["dormant"].facts) == 2
    assert checks["dormant"].unusable[0]["file"] == "accounts/broken.csv"


def test_export_date_entered_is_the_date_dormancy_is_judged_at(ev):
    from ccinspect.checks.rules import load_rules
    from ccinspect.checks.runner import (
        Context,
        active_rules,
        load_entered_dates,
        match_files,
        registry,
        run_analyzer,
    )

    _folder(ev, "ad_ps51.csv")
    write(ev, "evidence_dates.csv", "file,date\naccounts/ad_ps51.csv,2024-01-31\n")
    entered, errors = load_entered_dates(ev)
    assert errors == [] and entered == {"accounts/ad_ps51.csv": dt.date(2024, 1, 31)}
    spec = load_rules().analyzers["accounts"]
    files = match_files(ev, spec)
    ctx = Context("accounts", spec, ev, files, active_rules(spec, files), dt.date(2024, 6, 30), 3, [], None,
                  entered)
    checks = {c.rule: c for c in run_analyzer("accounts", registry()["accounts"], ctx)[0]}
    # exported on 2024-01-31: dormant1's last logon (2023-12-01) was 61 days old then
    assert [f.subject for f in checks["dormant"].facts] == ["ad_ps51/neverin"]  # created 2023-07-01, never used
    assert ctx.dates == {"accounts/ad_ps51.csv": {"date": "2024-01-31", "source": "entered"}}
