"""Real output, end to end: `ccinspect inspect` and `ccinspect logins scan` run on the examples, and their
output folders are imported into a web inspection the way a broker would (CLI, API); the checklist items
then carry the automated evidence with the statuses and the SHA-256 of the files examined."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.web.accounts.models import Organisation, Role
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import ChecklistItem, Evidence

from .conftest import make_user, token_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
AS_OF = "2025-05-31"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def example_broker(db):
    """The broker of examples/broker.yaml as a web organisation, with this month's access-control inspection."""
    svc.ensure_deduction_table()
    profile = yaml.safe_load((EXAMPLES / "broker.yaml").read_text(encoding="utf-8"))
    name = profile.pop("name")
    org = Organisation.objects.create(name=name, profile=profile)
    officer = make_user("example_officer", org, Role.SECURITY_OFFICER)
    insp = svc.create_inspection(officer, org, "inspection:CC-18000:2025-05")
    return org, officer, insp


def _run(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


def _automated(insp, ref_id):
    item = ChecklistItem.objects.get(inspection=insp, ref_id=ref_id)
    return item, Evidence.objects.get(item=item, kind=Evidence.AUTOMATED)


def test_inspect_output_imported_through_the_cli(example_broker, tmp_path):
    _org, officer, insp = example_broker
    out = tmp_path / "inspect"
    _run(["inspect", "--profile", str(EXAMPLES / "broker.yaml"), "--evidence", str(EXAMPLES / "evidence"),
          "--as-of", AS_OF, "--out", str(out)])
    report = json.loads((out / "inspection.json").read_text(encoding="utf-8"))
    by_ref = {r["ref_id"]: r for r in report["requirements"]}

    result = _run(["web", "import-results", str(out), "--inspection", str(insp.pk), "--user", "example_officer"])
    summary = json.loads(result.output)
    checklist = set(insp.items.filter(assessable=True).values_list("ref_id", flat=True))
    assert {a["ref_id"] for a in summary["attached"]} == checklist & set(by_ref)
    assert "CC-11000.1" in summary["skipped"]  # another chapter: not this inspection's

    # password age (CC-18000.3.f) and lockout (CC-18000.3.e) fail on the sample accounts; every file the
    # analyzers read is recorded with its digest, which is the digest of the file in examples/evidence
    for ref_id in ("CC-18000.3.f", "CC-18000.3.e", "CC-18000.2.b", "CC-18000.4.a"):
        assert ref_id in checklist
        item, ev = _automated(insp, ref_id)
        assert item.automated_status == by_ref[ref_id]["status"] == "fail"
        assert ev.metadata["status"] == "fail" and ev.note == by_ref[ref_id]["summary"]
        files = ev.metadata["files"]
        assert files and files == by_ref[ref_id]["evidence"]
        for f in files:
            assert f["sha256"] == _sha(EXAMPLES / "evidence" / f["path"]), f["path"]
        stored = svc.ev.path_of(ev).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == ev.sha256
        assert json.loads(stored)["ref_id"] == ref_id
    # the requirements a person must judge come across as manual
    manual = [r for r in checklist & set(by_ref) if by_ref[r]["status"] == "manual"]
    assert manual and all(_automated(insp, r)[0].automated_status == "manual" for r in manual)


def test_login_scan_output_imported_through_the_cli_and_the_api(example_broker, tmp_path, client):
    _org, officer, insp = example_broker
    out = tmp_path / "logins"
    logs = sorted((EXAMPLES / "evidence" / "logins" / "logs").iterdir())
    _run(["logins", "scan", *map(str, logs), "--customers", str(EXAMPLES / "evidence/logins/customers.csv"),
          "--out", str(out), "-q"])
    alerts = json.loads((out / "alerts.json").read_text(encoding="utf-8"))
    assert alerts["alerts"], "the example day has a brute-force burst"
    named = {r for a in alerts["alerts"] for r in a["ref_ids"]}
    assert {"CC-18000.3.e", "CC-18000.4.b"} <= named

    # the output folder through the CLI: alerts.json with run.json's inputs
    summary = json.loads(_run(["web", "import-results", str(out), "--inspection", str(insp.pk),
                               "--user", "example_officer"]).output)
    attached = {a["ref_id"] for a in summary["attached"]}
    assert {"CC-18000.3.e", "CC-18000.4.b"} <= attached
    item, ev = _automated(insp, "CC-18000.4.b")
    assert item.automated_status == "manual" and ev.metadata["status"] == "manual"
    assert ev.metadata["files"] == [{"path": str(p), "sha256": _sha(p)} for p in logs]
    body = json.loads(svc.ev.path_of(ev).read_bytes())
    first = alerts["alerts"][0]
    assert body["facts"][0]["id"] == first["id"] and body["facts"][0]["kind"] == first["kind"]
    assert body["checks"][0]["rules_sha256"] == alerts["rules"]["sha256"]

    # alerts.json alone through the API (what a scheduled job would post)
    key = token_for(officer)
    resp = client.post(f"/api/inspections/{insp.pk}/results", data=json.dumps({**alerts, "source": "alerts.json"}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert resp.status_code == 200, resp.content
    assert {a["ref_id"] for a in resp.json()["attached"]} == named & attached
    assert Evidence.objects.filter(item=item, kind=Evidence.AUTOMATED).count() == 2


@pytest.mark.parametrize("bad, message", [
    ({"alerts": "x"}, "alerts must be a list"),
    ({"alerts": [{"kind": "brute_force"}]}, "alert 1 names no ref_ids"),
    ({"alerts": [], "inputs": [{"file": "a.csv", "sha256": "nope"}]}, "input 1"),
])
def test_malformed_login_scan_is_refused(example_broker, bad, message):
    _org, officer, insp = example_broker
    with pytest.raises(svc.ServiceError, match=message):
        svc.import_results(officer, insp, json.dumps({"tool": svc.LOGIN_SCAN, **bad}))


def _fail(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0, result.output
    return " ".join(result.output.split())


def test_a_folder_that_mixes_two_runs_is_refused(example_broker, tmp_path):
    """A crash (or a hand) that left one run's alerts.json beside another's run.json: the hash run.json
    recorded for alerts.json no longer matches, and nothing is imported (issue 20)."""
    _org, _officer, insp = example_broker
    logs = sorted((EXAMPLES / "evidence" / "logins" / "logs").iterdir())
    roster = str(EXAMPLES / "evidence/logins/customers.csv")
    first, second = tmp_path / "first", tmp_path / "second"
    _run(["logins", "scan", str(logs[0]), "--customers", roster, "--out", str(first), "-q"])
    _run(["logins", "scan", *map(str, logs), "--customers", roster, "--out", str(second), "-q"])
    assert _sha(first / "alerts.json") != _sha(second / "alerts.json")
    (first / "alerts.json").write_bytes((second / "alerts.json").read_bytes())
    before = Evidence.objects.count()
    out = _fail(["web", "import-results", str(first), "--inspection", str(insp.pk), "--user", "example_officer"])
    assert "alerts.json" in out and "does not match" in out and "run.json" in out
    assert Evidence.objects.count() == before

    inspected = tmp_path / "inspect"
    _run(["inspect", "--profile", str(EXAMPLES / "broker.yaml"), "--evidence", str(EXAMPLES / "evidence"),
          "--as-of", AS_OF, "--out", str(inspected)])
    run = json.loads((inspected / "run.json").read_text(encoding="utf-8"))
    assert run["outputs"]["json"]["sha256"] == _sha(inspected / "inspection.json")
    assert run["outputs"]["markdown"]["sha256"] == _sha(inspected / "inspection.md")
    data = json.loads((inspected / "inspection.json").read_text(encoding="utf-8"))
    data["requirements"][0]["status"] = "pass"
    (inspected / "inspection.json").write_text(json.dumps(data), encoding="utf-8")
    out = _fail(["web", "import-results", str(inspected), "--inspection", str(insp.pk), "--user", "example_officer"])
    assert "inspection.json" in out and "does not match" in out
    assert Evidence.objects.count() == before
