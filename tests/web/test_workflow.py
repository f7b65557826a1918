"""The inspection workflow: checklist from the applicability engine, results, findings, separation of duties,
automated results import."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from typer.testing import CliRunner

from ccinspect.applicability import evaluate
from ccinspect.catalog import load_catalog
from ccinspect.cli import app
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import DeductionRule, Evidence, Finding, Inspection

from .conftest import deficient_with_finding


def _assess_all(w, insp, officer, result="compliant"):
    for item in insp.items.filter(assessable=True):
        svc.set_item_result(officer, item, result)


def test_checklist_is_exactly_the_applicable_requirements_with_focus_points(world):
    w = world
    res = evaluate(w.a.broker_profile(), dt.date(2025, 5, 31))
    expected = [e.ref_id for e in res.applicable if e.ref_id == "CC-18000" or e.ref_id.startswith("CC-18000.")]
    got = list(w.insp_a.items.values_list("ref_id", flat=True))
    assert got == expected and len(got) > 10
    assert w.insp_a.period_start == dt.date(2025, 5, 1) and w.insp_a.period_end == dt.date(2025, 5, 31)
    assert w.insp_a.cadence == "monthly"
    cat = load_catalog()
    with_focus = [i for i in w.insp_a.items.all() if cat.focus_points_for(i.ref_id)]
    assert with_focus, "CC-18000 has inspection focus points"
    for i in with_focus:
        assert [f["text"] for f in i.focus_points] == [f.text for f in cat.focus_points_for(i.ref_id)]


def test_duplicate_and_unknown_occurrences_are_refused(world):
    with pytest.raises(svc.ServiceError, match="already exists"):
        svc.create_inspection(world.officer, world.a, "inspection:CC-18000:2025-05")
    with pytest.raises(svc.ServiceError, match="not on"):
        svc.create_inspection(world.officer, world.a, "inspection:CC-99999:2025-05")
    with pytest.raises(PermissionDenied):
        svc.create_inspection(world.auditor, world.a, "inspection:CC-18000:2025-04")
    with pytest.raises(PermissionDenied):
        svc.create_inspection(world.officer, world.b, "inspection:CC-18000:2025-04")


def test_not_applicable_needs_a_reason_and_headings_take_no_result(world):
    w = world
    item = w.insp_a.items.filter(assessable=True).first()
    with pytest.raises(svc.ServiceError, match="reason"):
        svc.set_item_result(w.officer, item, "not_applicable")
    item.refresh_from_db()
    assert item.result == "not_assessed"
    item = svc.set_item_result(w.officer, item, "not_applicable", na_reason="no such system")
    assert item.na_reason == "no such system"
    heading = w.insp_a.items.filter(assessable=False).first()
    with pytest.raises(svc.ServiceError, match="heading"):
        svc.set_item_result(w.officer, heading, "compliant")
    with pytest.raises(svc.ServiceError, match="unknown result"):
        svc.set_item_result(w.officer, item, "great")


def test_findings_come_from_deficient_items_with_points_from_the_table(world):
    w = world
    item = w.insp_a.items.filter(assessable=True).first()
    with pytest.raises(svc.ServiceError, match="deficient"):
        svc.raise_finding(w.officer, item, title="x", severity="low", due_date="2025-07-01")
    DeductionRule.objects.filter(severity="high").update(points=7)
    _item, _ev, f = deficient_with_finding(w)
    assert f.deduction_points == 7 and f.status == Finding.OPEN
    with pytest.raises(svc.ServiceError, match="not a date"):
        svc.raise_finding(w.officer, f.item, title="x", severity="low", due_date="31/07")
    assert Finding.objects.count() == 1


def test_finding_lifecycle_and_separation_of_duties(world):
    w = world
    _item, _ev, f = deficient_with_finding(w)
    with pytest.raises(svc.ServiceError, match="remediation plan"):
        svc.transition(w.officer, f, Finding.IN_PROGRESS)
    svc.update_finding(w.officer, f, remediation_plan="Enforce 10 characters", owner_id=w.officer.pk)
    f = svc.transition(w.officer, f, Finding.IN_PROGRESS)
    with pytest.raises(svc.ServiceError, match="retest evidence"):
        svc.transition(w.officer, f, Finding.READY)
    svc.add_retest_evidence(w.officer, f, name="retest.txt", data=b"policy now 10 chars\n")
    f = svc.transition(w.officer, f, Finding.READY)
    with pytest.raises(PermissionDenied):
        svc.transition(w.officer, f, Finding.CLOSED)  # the preparer cannot close
    with pytest.raises(svc.ServiceError, match="cannot go"):
        svc.transition(w.auditor, f, Finding.OPEN)
    with pytest.raises(svc.ServiceError, match="why"):
        svc.transition(w.auditor, f, Finding.IN_PROGRESS)
    f = svc.transition(w.auditor, f, Finding.CLOSED, "retest passed")
    assert f.status == Finding.CLOSED and f.closed_by == w.auditor
    history = [(e.from_status, e.to_status) for e in f.events.all()]
    assert ("in_progress", "ready_for_retest") in history and ("ready_for_retest", "closed") in history
    assert f.evidence.filter(kind=Evidence.RETEST).count() == 1


def test_closing_needs_someone_other_than_who_submitted_the_retest(world):
    w = world
    _item, _ev, f = deficient_with_finding(w)
    svc.update_finding(w.officer, f, remediation_plan="plan")
    svc.transition(w.officer, f, Finding.IN_PROGRESS)
    svc.add_retest_evidence(w.officer, f, name="r.txt", data=b"ok\n")
    svc.transition(w.officer, f, Finding.READY)
    w.officer.role = "computer_auditor"  # the same person, now with the reviewer's role
    w.officer.save()
    with pytest.raises(PermissionDenied, match="separation of duties"):
        svc.transition(w.officer, f, Finding.CLOSED)


def test_submit_and_sign_off_with_separation_of_duties(world):
    w = world
    with pytest.raises(svc.ServiceError, match="not assessed"):
        svc.submit(w.officer, w.insp_a)
    _assess_all(w, w.insp_a, w.officer)
    item = w.insp_a.items.filter(assessable=True).first()
    svc.set_item_result(w.officer, item, "deficient")
    with pytest.raises(svc.ServiceError, match="raise a finding"):
        svc.submit(w.officer, w.insp_a)
    svc.raise_finding(w.officer, item, title="gap", severity="low", due_date="2025-08-01")
    insp = svc.submit(w.officer, w.insp_a)
    assert insp.status == Inspection.SUBMITTED
    with pytest.raises(svc.ServiceError, match="submitted"):
        svc.set_item_result(w.officer, item, "compliant")
    with pytest.raises(PermissionDenied):
        svc.sign_off(w.officer, insp)  # a preparer's role cannot sign off
    w.officer.role = "computer_auditor"
    w.officer.save()
    with pytest.raises(PermissionDenied, match="separation of duties"):
        svc.sign_off(w.officer, insp)  # nor can the preparer with a reviewer's role
    insp = svc.sign_off(w.auditor, insp, "ok")
    assert insp.status == Inspection.SIGNED_OFF and insp.signed_off_by == w.auditor


def test_return_for_rework(world):
    w = world
    _assess_all(w, w.insp_a, w.officer)
    svc.submit(w.officer, w.insp_a)
    with pytest.raises(svc.ServiceError, match="rework"):
        svc.return_for_rework(w.auditor, w.insp_a, "")
    insp = svc.return_for_rework(w.auditor, w.insp_a, "attach the account review")
    assert insp.status == Inspection.IN_PROGRESS and insp.editable


def _results(ref_ids):
    return {"format": "ccinspect-inspect/1", "requirements": [
        {"ref_id": r, "status": s, "summary": f"{r} {s}", "checks": [], "evidence": [
            {"path": "accounts.csv", "sha256": "a" * 64}]} for r, s in ref_ids]}


def test_import_results_attaches_automated_evidence(world):
    w = world
    items = list(w.insp_a.items.filter(assessable=True)[:2])
    data = _results([(items[0].ref_id, "fail"), (items[1].ref_id, "pass"), ("CC-11000.1", "pass")])
    out = svc.import_results(w.officer, w.insp_a, json.dumps(data))
    assert [a["ref_id"] for a in out["attached"]] == [items[0].ref_id, items[1].ref_id]
    assert out["skipped"] == ["CC-11000.1"]
    items[0].refresh_from_db()
    assert items[0].automated_status == "fail"
    ev = Evidence.objects.get(item=items[0], kind=Evidence.AUTOMATED)
    assert ev.metadata["status"] == "fail" and ev.metadata["files"][0]["sha256"] == "a" * 64
    assert json.loads(open(svc.ev.path_of(ev), "rb").read())["ref_id"] == items[0].ref_id


@pytest.mark.parametrize("bad, message", [
    ("{not json", "not JSON"),
    ({"requirements": [{"ref_id": "CC-18000.1", "status": "great"}]}, "status"),
    ({"requirements": [{"status": "pass"}]}, "ref_id"),
    ([{"ref_id": "CC-18000.1", "status": "pass", "evidence": [{"path": "x", "sha256": "zz"}]}], "sha256"),
    ({"other": 1}, "expected a list"),
])
def test_bad_results_are_refused_whole(world, bad, message):
    w = world
    good = w.insp_a.items.filter(assessable=True).first().ref_id
    payload = bad if isinstance(bad, str) else json.dumps(
        bad if not isinstance(bad, dict) or "requirements" not in bad
        else {"requirements": [{"ref_id": good, "status": "pass"}] + bad["requirements"]})
    with pytest.raises(svc.ServiceError, match=message):
        svc.import_results(w.officer, w.insp_a, payload)
    assert not Evidence.objects.filter(kind=Evidence.AUTOMATED).exists()
    assert not w.insp_a.items.exclude(automated_status="").exists()


def test_cli_import_results(world, tmp_path):
    w = world
    ref = w.insp_a.items.filter(assessable=True).first().ref_id
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results([(ref, "manual")])))
    result = CliRunner().invoke(app, ["web", "import-results", str(path), "--inspection", str(w.insp_a.pk),
                                      "--user", "officer_a"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attached"][0]["ref_id"] == ref
    bad = CliRunner().invoke(app, ["web", "import-results", str(path), "--inspection", str(w.insp_a.pk),
                                   "--user", "officer_b"])
    assert bad.exit_code != 0


def test_compliance_series_and_dashboard(world, client):
    from .conftest import login_client

    w = world
    _assess_all(w, w.insp_a, w.officer)
    series = svc.compliance_series(w.a)
    assert series["CC-18000"] == [(dt.date(2025, 5, 31), 100.0)]
    login_client(client, w.officer)
    resp = client.get("/dashboard/")
    assert resp.status_code == 200
    assert 'id="open-findings">0<' in resp.content.decode()
    deficient_with_finding(w)
    assert 'id="open-findings">1<' in client.get("/dashboard/").content.decode()


def test_finding_history_shows_translated_labels(world, client):
    from django.utils import translation

    from .conftest import login_client

    w = world
    _item, _ev, f = deficient_with_finding(w)
    svc.update_finding(w.officer, f, remediation_plan="Enforce 10 characters", due_date="2025-08-31")
    svc.transition(w.officer, f, Finding.IN_PROGRESS)
    svc.add_retest_evidence(w.officer, f, name="retest.txt", data=b"policy now 10 chars\n")
    login_client(client, w.officer)
    html = client.get(f"/findings/{f.pk}/").content.decode()
    history = html.split('<h2>History</h2>')[1]
    assert "in_progress" not in history.replace('class="badge in_progress', "")
    assert "Open</span> → " in history and ">In progress</span>" in history
    assert "Finding raised" in history and "Updated: remediation plan, due date" in history
    assert "Retest evidence retest.txt (" in history
    with translation.override("zh-hant"):
        events = list(f.events.all())
        assert events[0].display_note == "開立缺失" and events[0].to_label == "未處理"
        assert events[1].display_note == "更新：改善計畫、改善期限"
        assert (events[2].from_label, events[2].to_label) == ("未處理", "進行中")
    # a person's note is shown as written
    f.refresh_from_db()
    svc.add_retest_evidence(w.officer, f, name="r2.txt", data=b"again\n")
    svc.transition(w.officer, f, Finding.READY)
    svc.transition(w.auditor, f, Finding.IN_PROGRESS, "still 8 characters on the VPN")
    assert f.events.last().display_note == "still 8 characters on the VPN"
