"""The rule table against the catalog, and `ccinspect inspect` end to end over examples/evidence."""

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ccinspect.applicability import evaluate, load_profile
from ccinspect.catalog import load_catalog
from ccinspect.checks import inspect, load_rules
from ccinspect.checks.runner import registry
from ccinspect.cli.inspect import register

REPO = Path(__file__).resolve().parents[2]
EVIDENCE = REPO / "examples" / "evidence"
PROFILE = REPO / "examples" / "broker.yaml"
AS_OF = "2024-06-30"


def test_every_rule_ref_id_is_in_the_catalog_and_every_analyzer_is_registered():
    fv = load_catalog().version("mechanism")
    table = load_rules()
    for ref in table.ref_ids():
        req = fv.get(ref)
        assert req is not None, ref
        assert req.assessable, f"{ref} is a heading, not a checkable requirement"
    assert set(table.analyzers) == set(registry())


def test_no_ref_id_or_threshold_is_hard_coded_in_analyzers():
    src = REPO / "src" / "ccinspect" / "checks"
    for py in src.glob("*.py"):
        assert not re.search(r"CC-\d{5}", py.read_text(encoding="utf-8")), py.name


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("version")
    def _version() -> None:  # a second command keeps `inspect` a named subcommand
        pass

    return app


def _invoke(*args):
    return CliRunner().invoke(_app(), ["inspect", "--profile", str(PROFILE), "--evidence", str(EVIDENCE),
                                       "--as-of", AS_OF, *args])


@pytest.fixture(scope="module")
def report():
    res = _invoke("--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


EXPECTED = {
    "CC-11000.1": "pass", "CC-11000.4": "pass", "CC-13000.3": "fail", "CC-13000.6": "pass",
    "CC-14000.1": "pass", "CC-14000.3": "fail", "CC-15000.2": "fail", "CC-15000.3": "fail",
    "CC-17010.b.c": "fail", "CC-17010.b.f": "fail", "CC-17010.i.a": "pass", "CC-17010.i.b": "pass",
    "CC-17020.b.c": "fail", "CC-18000.2.b": "fail", "CC-18000.2.c": "fail", "CC-18000.2.f": "fail",
    "CC-18000.3.e": "fail", "CC-18000.3.f": "fail", "CC-18000.3.g": "fail", "CC-18000.4.a": "fail",
    "CC-18000.4.c": "pass", "CC-19000.9": "fail", "CC-20000.4": "fail", "CC-20000.7": "fail",
    "CC-21100.4.a": "fail", "CC-21100.4.b": "pass",
}


def test_sample_folder_gives_the_expected_checklist(report):
    got = {r["ref_id"]: r["status"] for r in report["requirements"]}
    assert {k: got.get(k) for k in EXPECTED} == EXPECTED
    assert report["counts"]["error"] == 0
    # The checklist covers every applicable assessable requirement; the rest are manual.
    app = evaluate(load_profile(PROFILE), dt.date.fromisoformat(AS_OF))
    assert set(got) == {e.ref_id for e in app.applicable if e.requirement.assessable}
    assert all(s == "manual" for k, s in got.items() if k not in EXPECTED)
    assert got["CC-12000.1"] == "manual"
    by = {r["ref_id"]: r for r in report["requirements"]}
    assert "no machine check exists" in by["CC-12000.1"]["summary"]
    # Login logs ran through the login-monitoring engine: its alert is a fact for the inspector.
    logins = by["CC-18000.4.b"]
    assert logins["status"] == "manual" and "1 alert(s)" in logins["summary"]
    assert "brute_force: accounts A100017 from 185.220.101.45" in logins["checks"][0]["facts"][0]["message"]


def test_facts_name_the_account_file_and_date(report):
    by = {r["ref_id"]: r for r in report["requirements"]}
    facts = [f for c in by["CC-18000.2.f"]["checks"] for f in c["facts"]]
    assert facts == [{"message": "enabled, last login 2023-10-02 (272 days before 2024-06-30)",
                      "file": "accounts/order_system.csv", "line": 4, "subject": "order_system/wang.jh",
                      "date": "2023-10-02"}]
    lock = [f for c in by["CC-18000.3.e"]["checks"] for f in c["facts"]]
    assert lock[0]["file"] == "linux/db01/etc/pam.d/common-auth" and "5 failures" in lock[0]["message"]
    vuln = [f["message"] for c in by["CC-19000.9"]["checks"] for f in c["facts"]]
    assert len(vuln) == 1 and "10.10.5.30" in vuln[0] and "186029" in vuln[0]


def test_evidence_hashes_are_sha256_of_every_file(report):
    files = sorted(p for p in EVIDENCE.rglob("*") if p.is_file())
    assert [e["path"] for e in report["evidence"]] == [p.relative_to(EVIDENCE).as_posix() for p in files]
    for e in report["evidence"]:
        assert e["sha256"] == hashlib.sha256((EVIDENCE / e["path"]).read_bytes()).hexdigest()
    by = {r["ref_id"]: r for r in report["requirements"]}
    paths = {e["path"] for e in by["CC-18000.3.f"]["evidence"]}
    assert {"linux/db01/etc/login.defs", "windows/ad01.inf"} <= paths
    assert all(e["sha256"] for e in by["CC-18000.3.f"]["evidence"])


def test_table_output_and_out_dir(tmp_path):
    res = _invoke("--out", str(tmp_path / "out"), "--status", "fail")
    assert res.exit_code == 0
    assert "CC-18000.2.f" in res.stdout and "order_system/wang.jh" in res.stdout
    assert "CC-11000.1 " not in res.stdout  # a pass, filtered out
    data = json.loads((tmp_path / "out" / "inspection.json").read_text(encoding="utf-8"))
    assert data["format"] == "ccinspect-inspection/1" and data["tier"] == 3
    md = (tmp_path / "out" / "inspection.md").read_text(encoding="utf-8")
    assert "| CC-18000.3.g | fail |" in md
    assert _invoke("--strict").exit_code == 1


def test_malformed_file_errors_only_its_analyzer(tmp_path):
    ev = tmp_path / "evidence"
    shutil.copytree(EVIDENCE, ev)
    p = ev / "training" / "records.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",6,", ",six,")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = inspect(load_profile(PROFILE), ev, dt.date.fromisoformat(AS_OF))
    runs = {a["analyzer"]: a for a in res.analyzers}
    assert runs["training"]["error"] == {"file": "training/records.csv", "line": 4, "field": "hours",
                                         "message": "'six' is not a number"}
    # the roster was read: the analyzer ran in part; the rules that need the records are errors
    assert [a for a, r in runs.items() if r["status"] in ("error", "partial")] == ["training"]
    assert res.get("CC-13000.3").status.value == "error"
    assert res.get("CC-15000.3").status.value == "error"
    assert res.get("CC-18000.2.f").status.value == "fail"  # other analyzers still ran
    assert res.get("CC-11000.1").status.value == "pass"
    out = CliRunner().invoke(_app(), ["inspect", "--profile", str(PROFILE), "--evidence", str(ev),
                                      "--as-of", AS_OF])
    assert "training/records.csv:4 field 'hours'" in out.stdout


def test_missing_evidence_is_manual_not_pass(tmp_path):
    res = inspect(load_profile(PROFILE), tmp_path, dt.date.fromisoformat(AS_OF))
    assert res.counts()["pass"] == 0 and res.counts()["fail"] == 0
    r = res.get("CC-18000.2.f")
    assert r.status.value == "manual" and "accounts/*" in r.summary


def test_bad_profile_and_date_exit_2(tmp_path):
    res = CliRunner().invoke(_app(), ["inspect", "--profile", str(PROFILE), "--evidence", str(EVIDENCE),
                                      "--as-of", "someday"])
    assert res.exit_code == 2 and "--as-of" in res.output
