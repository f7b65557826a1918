"""The continuity register in the web app: pages, records with their checks, XLSX import (nothing saved on a bad
workbook), findings from drill shortfalls, the incident link, the regulator's read-only view, API and CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook
from typer.testing import CliRunner

from ccinspect.continuity import read_yaml
from ccinspect.web.accounts.models import AuditEvent
from ccinspect.web.continuity import services as svc
from ccinspect.web.continuity.models import CoreSystem, Drill, GapFinding, ImpactAnalysis
from ccinspect.web.incidents import services as incidents
from ccinspect.web.inspections.models import ChecklistItem, Finding
from ccinspect.web.inspections.services import ServiceError

from .conftest import login_client, token_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "continuity" / "continuity.yaml"
AS_OF = "2025-06-30"


@pytest.fixture
def cworld(world):
    svc.replace_register(world.officer, world.a, read_yaml(EXAMPLE), source="continuity.yaml")
    return world


def _count(org) -> int:
    return sum(svc.rows(org, k).count() for k in svc.KINDS)


def test_dashboard_gaps_countdown_due_and_chart(cworld):
    c = login_client(Client(), cworld.officer)
    html = c.get(f"/continuity/?as_of={AS_OF}").content.decode()
    assert html.count('class="gap"') == 9
    assert 'data-rule="drill-shortfall"' in html and 'id="days-left">914<' in html
    assert "MID-01" in html and "falls short" in html  # the DR outlook
    assert 'id="drill-data"' in html and "Achieved RTO" in html  # the chart's data, served with local plotly
    assert "ccinspect/vendor/plotly-basic.min." in html  # the basic bundle, under its hashed name
    assert "CC-20000.十三.2" in html  # the board report on the calendar
    assert "Raise finding" in html  # an inspection is in progress: shortfalls can be raised


def test_records_are_checked_and_audited(cworld):
    w = cworld
    c = login_client(Client(), w.officer)
    resp = c.post("/continuity/systems/", {"code": "NEW-1", "name": "新系統", "owner": "資訊部",
                                           "functions": "下單; 查詢", "major_impact": "on"})
    assert resp.status_code == 302
    new = CoreSystem.objects.get(organisation=w.a, code="NEW-1")
    assert new.functions == ["下單", "查詢"] and new.major_impact
    assert AuditEvent.objects.filter(model="continuity.CoreSystem", object_id=str(new.pk), action="create",
                                     actor_username=w.officer.username).exists()
    before = _count(w.a)
    bad = {"code": "BIA-X", "system": "NOPE", "date": "2025-06-01", "tolerable_minutes": 30, "rto_minutes": 10,
           "rpo_minutes": 0, "approver": "x"}
    resp = c.post("/continuity/impact_analyses/", bad)
    assert resp.status_code == 400 and "unknown system" in resp.content.decode()
    resp = c.post("/continuity/systems/", {"code": "TRD-01", "name": "dup", "owner": "x"})
    assert resp.status_code == 400 and "duplicate" in resp.content.decode()
    resp = c.post("/continuity/drills/", {"code": "D-X", "kind": "bcp", "date": "2025-06-01", "scenario": "x",
                                          "result": "passed", "review_meeting_on": "2025-05-01"})
    assert resp.status_code == 400 and "before the drill" in resp.content.decode()
    assert _count(w.a) == before
    trd = CoreSystem.objects.get(organisation=w.a, code="TRD-01")  # still named by BIA, drills …
    c.post(f"/continuity/systems/{trd.pk}/delete/")
    assert CoreSystem.objects.filter(pk=trd.pk).exists()
    bia = ImpactAnalysis.objects.get(organisation=w.a, code="BIA-2025-APP")
    resp = c.post(f"/continuity/impact_analyses/{bia.pk}/", {"code": bia.code, "system": "APP-01",
                                                             "date": "2025-02-20", "tolerable_minutes": 60,
                                                             "rto_minutes": 45, "rpo_minutes": 15,
                                                             "approver": "資訊長"})
    assert resp.status_code == 302
    assert ImpactAnalysis.objects.get(pk=bia.pk).rto_minutes == 45
    ev = AuditEvent.objects.filter(model="continuity.ImpactAnalysis", object_id=str(bia.pk), action="update").last()
    assert ev.changes["rto_minutes"] == [90.0, 45.0]


def _workbook(reg, edit=None) -> bytes:
    wb = load_workbook(io.BytesIO(svc.workbook_bytes(reg)))
    if edit:
        edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_bad_workbook_saves_nothing(cworld):
    w = cworld
    c = login_client(Client(), w.officer)
    before = (_count(w.a), AuditEvent.objects.count())

    def spoil(wb):
        ws = wb["impact_analyses"]
        ws["C2"] = "2025-02-30"  # column C is `date`
        ws["B3"] = "GHOST"  # unknown system
        wb.create_sheet("extra")

    up = SimpleUploadedFile("bad.xlsx", _workbook(svc.register_for(w.a), spoil))
    resp = c.post("/continuity/import/", {"file": up})
    text = resp.content.decode()
    assert resp.status_code == 400 and "nothing was imported" in text
    assert "extra" in text and "unknown sheet" in text
    reg = svc.register_for(w.a)
    resp = c.post("/continuity/import/", {"file": SimpleUploadedFile("bad.xlsx", _workbook(
        reg, lambda wb: wb["impact_analyses"].__setitem__("C2", "2025-02-30")))})
    assert "<td>impact_analyses</td><td>2</td><td>C (date)</td>" in resp.content.decode()
    resp = c.post("/continuity/import/", {"file": SimpleUploadedFile("bad.xlsx", _workbook(
        reg, lambda wb: wb["impact_analyses"].__setitem__("B3", "GHOST")))})
    text = resp.content.decode()
    assert "<td>impact_analyses</td><td>3</td><td>B (system)</td>" in text and "GHOST" in text
    resp = c.post("/continuity/import/", {"file": SimpleUploadedFile("notes.xlsx", b"not a workbook")})
    assert resp.status_code == 400 and "not an XLSX workbook" in resp.content.decode()
    assert (_count(w.a), AuditEvent.objects.count()) == before

    # a good workbook replaces the register, with one import entry on the audit trail
    good = _workbook(svc.register_for(w.a), lambda wb: wb["systems"].delete_rows(7))  # RPT-01 … and refs
    resp = c.post("/continuity/import/", {"file": SimpleUploadedFile("good.xlsx", good)})
    assert resp.status_code == 400  # RPT-01 is still named by its BIA: refused, nothing saved
    assert _count(w.a) == before[0]
    reg = svc.register_for(w.a)
    reg.tolerance_classes = []
    reg.systems[0].name = "交易主機（新）"
    resp = c.post("/continuity/import/", {"file": SimpleUploadedFile("good.xlsx", _workbook(reg))})
    assert resp.status_code == 302
    assert CoreSystem.objects.get(organisation=w.a, code=reg.systems[0].id).name == "交易主機（新）"
    assert AuditEvent.objects.filter(action="import", model="continuity.Register", organisation_id=w.a.pk).exists()


def test_template_and_export(cworld):
    c = login_client(Client(), cworld.officer)
    tpl = load_workbook(io.BytesIO(c.get("/continuity/template.xlsx").content))
    assert "systems" in tpl.sheetnames and tpl["systems"].max_row == 1
    exp = load_workbook(io.BytesIO(c.get("/continuity/export.xlsx").content))
    assert exp["systems"].max_row == 7 and exp["drills"].max_row == 6


def test_shortfall_raises_a_finding(cworld):
    w = cworld
    c = login_client(Client(), w.officer)
    item = ChecklistItem.objects.filter(inspection=w.insp_a, assessable=True).first()
    data = {"rule": "drill-shortfall", "kind": "drills", "record": "BCP-2025-2", "item": item.pk,
            "severity": "medium", "due_date": "2025-12-31"}
    c.post("/continuity/finding/", data)
    link = GapFinding.objects.get(organisation=w.a, rule="drill-shortfall", record_id="BCP-2025-2")
    f = link.finding
    assert f.status == Finding.OPEN and f.item_id == item.pk and "BCP-2025-2" in f.description
    assert ChecklistItem.objects.get(pk=item.pk).result == ChecklistItem.DEFICIENT
    assert AuditEvent.objects.filter(action="raise_finding", model="continuity.GapFinding").exists()
    c.post("/continuity/finding/", data)  # once per gap
    assert GapFinding.objects.filter(organisation=w.a).count() == 1
    html = c.get(f"/continuity/?as_of={AS_OF}").content.decode()
    assert f'>F-{f.pk}</a>' in html
    with pytest.raises(ServiceError):  # only drill shortfalls, and only real gaps
        svc.raise_gap_finding(w.officer, w.a, rule="bia-stale", kind="impact_analyses", record_id="BIA-2024-MID",
                              item_id=item.pk, severity="low", due_date="2025-12-31")
    with pytest.raises(ServiceError):
        svc.raise_gap_finding(w.officer, w.a, rule="drill-shortfall", kind="drills", record_id="BCP-2025-1",
                              item_id=item.pk, severity="low", due_date="2025-12-31")
    Drill.objects.filter(organisation=w.a).delete()


def test_incident_outage_against_the_register_rto(cworld):
    w = cworld
    inc = incidents.create_incident(w.officer, w.a, {
        "title": "App 中斷", "category": "outage", "detected_at": "2025-06-10T09:00", "core_system": "APP-01",
        "outage_started_at": "2025-06-10T09:00", "service_restored_at": "2025-06-10T11:00"})
    assert (inc.rto_minutes, inc.tolerable_minutes, inc.interruption_minutes) == (90, 60, 120)
    assert inc.interruption_exceeds_rto
    with pytest.raises(ServiceError, match="not on the continuity register"):
        incidents.create_incident(w.officer, w.a, {"title": "x", "category": "outage",
                                                   "detected_at": "2025-06-10T09:00", "core_system": "NOPE"})
    c = login_client(Client(), w.officer)
    html = c.get("/continuity/").content.decode()
    assert inc.code in html and "over the RTO" in html
    assert 'id="core-system"' in c.get(f"/incidents/{inc.pk}/").content.decode()


def test_regulator_reads_and_changes_nothing(cworld):
    w = cworld
    c = login_client(Client(), w.regulator)
    assert "Broker A" in c.get("/continuity/").content.decode()  # the broker chooser
    html = c.get(f"/continuity/?broker={w.a.pk}&as_of={AS_OF}").content.decode()
    assert html.count('class="gap"') == 9 and "Raise finding" not in html
    before = _count(w.a)
    assert c.post("/continuity/systems/", {"code": "X", "name": "x", "owner": "x"}).status_code == 403
    sys = CoreSystem.objects.filter(organisation=w.a).first()
    assert c.get(f"/continuity/systems/{sys.pk}/").status_code == 200
    assert c.post(f"/continuity/systems/{sys.pk}/delete/").status_code == 403
    assert c.post("/continuity/import/", {}).status_code == 403
    assert _count(w.a) == before
    # the auditor reads the own broker's register but does not change it
    assert login_client(Client(), w.auditor).post("/continuity/systems/", {"code": "X"}).status_code == 403


def test_amendment_page(cworld):
    html = login_client(Client(), cworld.officer).get("/continuity/amendment/").content.decode()
    assert "CC-20000.七" in html and "CC-20000.八" in html and "continues" in html
    assert "2027" in html and html.count("class=\"card clause\"") >= 3


def test_api_status_and_register(cworld):
    w = cworld
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer)}")
    st = c.get(f"/api/continuity/brokers/{w.a.pk}/status?as_of={AS_OF}").json()
    assert len(st["gaps"]) == 9 and st["dr_outlook"]["days_left"] == 914
    assert all(g["record"] is None or set(g["record"]) == {"kind", "id"} for g in st["gaps"])
    assert len(c.get(f"/api/continuity/brokers/{w.a.pk}/register").json()["systems"]) == 6
    assert c.get(f"/api/continuity/brokers/{w.b.pk}/status").status_code == 404


def test_cli_status_from_the_database(cworld):
    from ccinspect.cli import app

    res = CliRunner().invoke(app, ["continuity", "status", "--db", "--broker", "Broker A", "--as-of", AS_OF,
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)["gaps"]) == 9
    res = CliRunner().invoke(app, ["continuity", "status", "--db", "--broker", str(cworld.a.pk + 999)])
    assert res.exit_code != 0 and "no broker" in res.output
