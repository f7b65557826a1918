from tests.checks.conftest import run, write

HEADER = "user,name,role,privileged,status,created,last_login,owner_employee_id\n"


def _folder(ev, rows: str, leavers="employee_id,name,leave_date\n", approvals=None):
    write(ev, "accounts/core.csv", HEADER + rows)
    write(ev, "hr/leavers.csv", leavers)
    write(ev, "approvals/privileged_accounts.csv",
          approvals or "system,user,approved_by,approved_on\ncore,opsadm,IT manager,2024-01-02\n")


def test_clean_accounts_pass(ev):
    _folder(ev, "alice,Alice,trader,no,enabled,2020-01-01,2024-06-20,E1\n"
                "opsadm,Ops admin,admin,yes,enabled,2020-01-01,2024-06-01,E2\n"
                "bob,Bob,trader,no,disabled,2019-01-01,2022-01-01,E3\n",
            leavers="employee_id,name,leave_date\nE3,Bob,2022-01-05\n")
    checks, rec = run("accounts", ev)
    assert rec["status"] == "ran"
    assert {r: c.status.value for r, c in checks.items()} == {
        "dormant": "pass", "leavers": "pass", "default_names": "pass", "shared": "pass",
        "privileged_approval": "pass"}
    assert checks["leavers"].ref_ids == ("CC-15000.2", "CC-18000.2.b")


def test_each_rule_fails_with_facts(ev):
    _folder(ev, "alice,Alice,trader,no,enabled,2020-01-01,2023-12-01,E1\n"   # 212 days unused
                "carol,Carol,trader,no,enabled,2020-01-01,2024-06-10,E7\n"   # left 2024-06-01, used after
                "root,root,admin,yes,enabled,2015-01-01,2024-06-29,E2\n"     # default name, no approval
                "team_ops,Ops team,operator,no,enabled,2020-01-01,2024-06-29,E4;E5\n"
                "nobody,,operator,no,enabled,2020-01-01,2024-06-29,\n"
                "client9,Client,client,no,enabled,2019-01-01,2022-01-01,\n"   # clients are exempt from dormancy
                "never,Never,trader,no,enabled,2023-01-01,,E6\n",
            leavers="employee_id,name,leave_date\nE7,Carol,2024-06-01\n")
    checks, _ = run("accounts", ev)
    dormant = checks["dormant"]
    assert dormant.status.value == "fail"
    assert sorted(f.subject for f in dormant.facts) == ["core/alice", "core/never"]
    assert dormant.facts[0].file == "accounts/core.csv" and dormant.facts[0].line == 2
    leav = checks["leavers"]
    assert leav.status.value == "fail"
    assert any("still enabled" in f.message for f in leav.facts)
    assert any("after the departure" in f.message and f.date == "2024-06-10" for f in leav.facts)
    assert [f.subject for f in checks["default_names"].facts] == ["core/root"]
    shared = {f.subject for f in checks["shared"].facts}
    assert shared == {"core/team_ops", "core/nobody", "core/client9"}
    assert [f.subject for f in checks["privileged_approval"].facts] == ["core/root"]


def test_threshold_comes_from_the_rule_table(ev):
    from ccinspect.checks.rules import load_rules

    _folder(ev, "alice,Alice,trader,no,enabled,2020-01-01,2023-12-01,E1\n")
    table = load_rules().model_copy(deep=True)
    table.analyzers["accounts"].rules["dormant"].params["unused_days"] = 300
    checks, _ = run("accounts", ev, rules=table)
    assert checks["dormant"].status.value == "pass"


def test_missing_leavers_list_is_manual(ev):
    write(ev, "accounts/core.csv", HEADER + "alice,Alice,trader,no,enabled,2020-01-01,2024-06-20,E1\n")
    checks, _ = run("accounts", ev)
    assert checks["leavers"].status.value == "manual"
    assert "hr/leavers.csv" in checks["leavers"].summary
    assert checks["dormant"].status.value == "pass"


def test_malformed_status_names_file_line_field(ev):
    _folder(ev, "alice,Alice,trader,no,enabled,2020-01-01,2024-06-20,E1\n"
                "bob,Bob,trader,no,maybe,2020-01-01,2024-06-20,E2\n")
    checks, rec = run("accounts", ev)
    assert rec["status"] == "partial"  # the leavers and approvals lists were read
    assert rec["error"] == {"file": "accounts/core.csv", "line": 3, "field": "status",
                            "message": rec["error"]["message"]}
    assert "'maybe' is not one of" in rec["error"]["message"]
    # every rule reads the only accounts file: none can be judged without it, each names it
    assert {c.status.value for c in checks.values()} == {"error"}
    assert checks["leavers"].unusable[0]["file"] == "accounts/core.csv"


def test_malformed_date_and_missing_column(ev):
    _folder(ev, "alice,Alice,trader,no,enabled,2020-13-01,2024-06-20,E1\n")
    _, rec = run("accounts", ev)
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "created")
    write(ev, "accounts/core.csv", "user,name,status\nalice,Alice,enabled\n")
    _, rec = run("accounts", ev)
    assert rec["error"]["field"] == "role" and rec["error"]["line"] == 1
