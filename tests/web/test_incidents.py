"""The incident register: the reporting clocks (deadline, countdown, met / late / overdue, across midnight,
Asia/Taipei), recording and reports with their validation, TWSE immediate report for personal data, RTO against
the tolerable interruption time, findings and BCP follow-ups from an incident, XLSX export, audit trail, scope."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from ccinspect.web.accounts.models import AuditEvent
from ccinspect.web.incidents import clocks as clk
from ccinspect.web.incidents import services as isvc
from ccinspect.web.incidents.models import BcpFollowUp, Incident
from ccinspect.web.incidents.templatetags.incidents import countdown_text
from ccinspect.web.inspections.models import ChecklistItem, Finding
from ccinspect.web.inspections.services import ServiceError

from .conftest import login_client, token_for

TPE = ZoneInfo("Asia/Taipei")
MIN = clk.durations()


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=TPE)


# ---- the clocks, pure -----------------------------------------------------------------------------------

def test_default_durations_are_the_seed_times():
    assert MIN == {"initial": 30, "formal": 24 * 60, "closure": 3 * 24 * 60, "twse": 30}


def test_durations_are_configurable_and_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("CCINSPECT_INCIDENT_INITIAL_MINUTES", "15")
    monkeypatch.setenv("CCINSPECT_INCIDENT_FORMAL_HOURS", "12")
    monkeypatch.setenv("CCINSPECT_INCIDENT_CLOSURE_DAYS", "5")
    assert clk.durations() == {"initial": 15, "formal": 12 * 60, "closure": 5 * 24 * 60, "twse": 30}
    monkeypatch.setenv("CCINSPECT_INCIDENT_FORMAL_HOURS", "a day")
    with pytest.raises(clk.ClockConfigError, match="CCINSPECT_INCIDENT_FORMAL_HOURS='a day' is not a whole number"):
        clk.durations()
    monkeypatch.setenv("CCINSPECT_INCIDENT_FORMAL_HOURS", "0")
    with pytest.raises(clk.ClockConfigError, match="greater than zero"):
        clk.durations()


def test_clocks_across_midnight_in_taipei():
    detected = at("2025-06-15T23:50")
    cl = {c.stage: c for c in clk.clocks(detected, MIN, {}, personal_data=False)}
    assert set(cl) == {"initial", "formal", "closure"}  # no TWSE clock without personal data
    assert cl["initial"].deadline_local == at("2025-06-16T00:20")
    assert cl["initial"].deadline_local.date() == dt.date(2025, 6, 16)  # the next day in Taipei ...
    assert cl["initial"].deadline.astimezone(dt.UTC).date() == dt.date(2025, 6, 15)  # ... still the 15th in UTC
    assert cl["formal"].deadline_local == at("2025-06-16T23:50")
    assert cl["closure"].deadline_local == at("2025-06-18T23:50")
    # pending before the deadline, with the countdown; overdue after
    c = cl["initial"]
    assert c.state(at("2025-06-16T00:05")) == clk.PENDING
    assert c.remaining(at("2025-06-16T00:05")) == dt.timedelta(minutes=15)
    assert c.state(at("2025-06-16T00:20")) == clk.PENDING  # the deadline minute itself is in time
    assert c.state(at("2025-06-16T00:21")) == clk.OVERDUE
    assert c.remaining(at("2025-06-16T01:00")) == -dt.timedelta(minutes=40)


def test_a_naive_time_is_taipei_and_utc_input_is_converted():
    utc = dt.datetime(2025, 6, 15, 15, 50, tzinfo=dt.UTC)  # = 23:50 in Taipei
    naive = dt.datetime(2025, 6, 15, 23, 50)
    a = clk.clocks(utc, MIN, {}, personal_data=True)
    b = clk.clocks(naive, MIN, {}, personal_data=True)
    assert [c.deadline for c in a] == [c.deadline for c in b]
    assert a[-1].stage == "twse" and a[-1].deadline_local == at("2025-06-16T00:20")
    # Taiwan has no daylight saving time: the same offset in January and July
    assert at("2025-01-15T12:00").utcoffset() == at("2025-07-15T12:00").utcoffset() == dt.timedelta(hours=8)


def test_met_and_missed():
    detected = at("2025-03-01T10:00")
    cl = {c.stage: c for c in clk.clocks(detected, MIN, {"initial": at("2025-03-01T10:29"),
                                                         "formal": at("2025-03-02T10:01")}, personal_data=False)}
    later = at("2025-03-10T00:00")
    assert cl["initial"].state(later) == clk.MET
    assert cl["formal"].state(later) == clk.MISSED
    assert cl["closure"].state(later) == clk.OVERDUE
    assert cl["initial"].remaining(later) == dt.timedelta(minutes=1)  # the margin it was met by


def test_countdown_text():
    c = clk.Clock("initial", at("2025-06-16T00:20"))
    assert countdown_text(c, at("2025-06-16T00:08")) == "12 min left"
    assert countdown_text(c, at("2025-06-17T03:20")) == "1 d 3 h overdue"
    done = clk.Clock("formal", at("2025-06-16T00:20"), at("2025-06-16T02:35"))
    assert countdown_text(done, at("2025-06-20T00:00")) == "reported 2 h 15 min late"


# ---- the register ---------------------------------------------------------------------------------------

def _new(w, **kw):
    data = {"title": "APP 下單主機無法登入", "category": "outage", "detected_at": "2025-06-15T23:50",
            "customers_affected": "1200", "estimated_amount": "350000", "systems_affected": "APP 電子下單",
            "outage_started_at": "2025-06-15T22:30", "service_restored_at": "2025-06-16T00:00",
            "tolerable_minutes": "60", "rto_minutes": "45"} | kw
    return isvc.create_incident(w.officer, w.a, data)


@pytest.fixture
def frozen(monkeypatch):
    """timezone.now() at a chosen Taipei time (the clocks compare with it)."""
    box = {"now": at("2025-06-16T00:05")}
    monkeypatch.setattr(timezone, "now", lambda: box["now"])
    return box


def test_record_an_outage_with_clocks_and_rto(world, frozen):
    inc = _new(world)
    assert inc.organisation == world.a and inc.initial_minutes == 30
    cl = {c.stage: c for c in inc.clocks()}
    assert cl["initial"].deadline_local == at("2025-06-16T00:20")
    assert inc.interruption_minutes == 90
    assert inc.interruption_exceeds_tolerable and inc.interruption_exceeds_rto and not inc.rto_exceeds_tolerable
    assert not inc.personal_data_incident and "twse" not in cl
    ev = AuditEvent.objects.filter(model="incidents.Incident", action="create").get()
    assert ev.actor_username == "officer_a" and ev.organisation_id == world.a.pk
    assert ev.changes["title"][1] == "APP 下單主機無法登入"


def test_snapshot_durations_do_not_move_with_the_configuration(world, frozen, monkeypatch):
    inc = _new(world)
    monkeypatch.setenv("CCINSPECT_INCIDENT_INITIAL_MINUTES", "5")
    later = _new(world, title="second")
    assert Incident.objects.get(pk=inc.pk).clocks()[0].deadline_local == at("2025-06-16T00:20")
    assert later.clocks()[0].deadline_local == at("2025-06-15T23:55")


@pytest.mark.parametrize("data, message", [
    ({"title": ""}, "needs a title"),
    ({"category": "alien"}, "category 'alien' is not one of"),
    ({"detected_at": "yesterday"}, "not a date and time"),
    ({"detected_at": "2025-06-16T09:00"}, "lies in the future"),
    ({"service_restored_at": "2025-06-15T22:00"}, "restored before the outage started"),
    ({"outage_started_at": "", "service_restored_at": "2025-06-15T23:59"}, "outage started as well"),
    ({"customers_affected": "-3"}, "cannot be negative"),
    ({"estimated_amount": "lots"}, "is not a number"),
    ({"personal_data": ["sold"]}, "sold is not one of"),
    ({"colour": "red"}, "unknown field"),
])
def test_bad_input_is_refused_and_nothing_is_written(world, frozen, data, message):
    with pytest.raises(ServiceError, match=message):
        _new(world, **data)
    assert Incident.objects.count() == 0
    assert not AuditEvent.objects.filter(model="incidents.Incident").exists()


def test_reports_in_order_met_and_late(world, frozen):
    inc = _new(world)
    with pytest.raises(ServiceError, match="record the initial report first"):
        isvc.record_report(world.officer, inc, "formal", "2025-06-16T00:10")
    with pytest.raises(ServiceError, match="precede the detection"):
        isvc.record_report(world.officer, inc, "initial", "2025-06-15T23:00")
    with pytest.raises(ServiceError, match="in the future"):
        isvc.record_report(world.officer, inc, "initial", "2025-06-16T03:00")
    with pytest.raises(ServiceError, match="personal data"):
        isvc.record_report(world.officer, inc, "twse")
    inc = isvc.record_report(world.officer, inc, "initial")  # now = 00:05, in time
    with pytest.raises(ServiceError, match="already recorded"):
        isvc.record_report(world.officer, inc, "initial")
    frozen["now"] = at("2025-06-17T02:00")
    inc = isvc.record_report(world.officer, inc, "formal")  # 2 h 10 min late
    cl = {c.stage: c.state(frozen["now"]) for c in inc.clocks()}
    assert cl == {"initial": clk.MET, "formal": clk.MISSED, "closure": clk.PENDING}
    frozen["now"] = at("2025-06-19T00:00")
    assert [c.stage for c in Incident.objects.get(pk=inc.pk).overdue_clocks(frozen["now"])] == ["closure"]
    ups = AuditEvent.objects.filter(model="incidents.Incident", action="update")
    assert any("formal_reported_at" in e.changes for e in ups)


def test_personal_data_incident_needs_the_immediate_twse_report(world, frozen):
    inc = _new(world, category="data_leak", personal_data=["leaked", "stolen"], outage_started_at="",
               service_restored_at="")
    assert inc.personal_data == ["stolen", "leaked"]  # in the regulation's order
    twse = [c for c in inc.clocks() if c.stage == "twse"][0]
    assert twse.deadline_local == at("2025-06-16T00:20") and twse.state(frozen["now"]) == clk.PENDING
    frozen["now"] = at("2025-06-16T00:40")
    assert "twse" in [c.stage for c in inc.overdue_clocks(frozen["now"])]
    inc = isvc.record_report(world.officer, inc, "twse", "2025-06-16T00:35")
    assert [c for c in inc.clocks() if c.stage == "twse"][0].state(frozen["now"]) == clk.MISSED
    with pytest.raises(ServiceError, match="cannot be cleared"):
        isvc.update_incident(world.officer, inc, {"personal_data": []})


def test_only_the_brokers_preparers_record(world, frozen):
    from django.core.exceptions import PermissionDenied

    for user in (world.auditor, world.regulator, world.officer_b):
        with pytest.raises(PermissionDenied):
            isvc.create_incident(user, world.a, {"title": "x", "category": "other", "detected_at": "2025-06-15T23:00"})
    inc = _new(world)
    for user in (world.auditor, world.regulator, world.officer_b):
        with pytest.raises(PermissionDenied):
            isvc.record_report(user, inc, "initial")
    assert Incident.objects.get(pk=inc.pk).initial_reported_at is None


def test_raise_a_finding_and_a_bcp_followup(world, frozen):
    inc = _new(world)
    item = world.insp_a.items.filter(assessable=True).first()
    f = isvc.raise_finding(world.officer, inc, item, title="下單主機更新未經測試", severity="high",
                           due_date="2025-08-31")
    item.refresh_from_db()
    assert item.result == ChecklistItem.DEFICIENT and inc.code in item.notes
    assert list(inc.findings.all()) == [f] and f.description.startswith(inc.code)
    assert f.deduction_points == 5
    other_item = world.insp_b.items.filter(assessable=True).first()
    with pytest.raises(ServiceError, match="another broker"):
        isvc.raise_finding(world.officer, inc, other_item, title="x", severity="low", due_date="2025-08-31")
    fu = isvc.add_followup(world.officer, inc, action="修訂故障復原程序並辦理切換演練", due_date="2025-07-31",
                           owner_id=world.officer.pk)
    with pytest.raises(ServiceError, match="owner must be an active user of the same broker"):
        isvc.add_followup(world.officer, inc, action="x", due_date="2025-07-31", owner_id=world.officer_b.pk)
    with pytest.raises(ServiceError, match="say what was done"):
        isvc.complete_followup(world.officer, fu, "")
    fu = isvc.complete_followup(world.officer, fu, "已完成演練")
    assert fu.done_at is not None
    models = set(AuditEvent.objects.values_list("model", flat=True))
    assert {"incidents.BcpFollowUp", "inspections.Finding", "incidents.Incident"} <= models
    link = AuditEvent.objects.filter(model="incidents.Incident", action="update").first()
    assert link.changes["findings"] == [None, f"F-{f.pk}"]


# ---- pages, export, API ---------------------------------------------------------------------------------

def test_register_page_shows_clocks_and_the_form_records(world, frozen):
    c = login_client(Client(), world.officer)
    resp = c.post("/incidents/new/", {"title": "DDoS 流量攻擊", "category": "ddos", "detected_at": "2025-06-15T23:50",
                                      "customers_affected": "0", "estimated_amount": "0", "personal_data_form": "1",
                                      "personal_data": ["leaked"]})
    inc = Incident.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/incidents/{inc.pk}/"
    assert inc.personal_data == ["leaked"]
    page = c.get(f"/incidents/{inc.pk}/").content.decode()
    assert "Immediate report to TWSE" in page and "2025-06-16 00:20" in page and "15 min left" in page
    resp = c.post("/incidents/new/", {"title": "", "category": "ddos", "detected_at": "2025-06-15T23:50"})
    assert resp.status_code == 400 and "needs a title" in resp.content.decode()
    assert Incident.objects.count() == 1
    frozen["now"] = at("2025-06-16T02:00")
    c = login_client(Client(), world.officer)  # the 30-minute idle session has expired meanwhile
    listing = c.get("/incidents/?state=overdue").content.decode()
    assert inc.code in listing and "1 h 40 min overdue" in listing
    c.post(f"/incidents/{inc.pk}/report/", {"stage": "initial", "at": "2025-06-16T00:15"})
    inc.refresh_from_db()
    assert clk.taipei(inc.initial_reported_at) == at("2025-06-16T00:15")


def test_xlsx_export(world, frozen):
    inc = _new(world, personal_data=["lost"])
    isvc.record_report(world.officer, inc, "initial", "2025-06-16T00:10")
    frozen["now"] = at("2025-06-17T08:00")
    c = login_client(Client(), world.officer)
    resp = c.get("/incidents/export.xlsx")
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(resp.content)).active
    head = [cell.value for cell in ws[1]]
    row = dict(zip(head, [cell.value for cell in ws[2]], strict=True))
    assert row["ID"] == inc.code and row["Title"] == "APP 下單主機無法登入"
    assert row["Detected (Taipei)"] == dt.datetime(2025, 6, 15, 23, 50)
    assert row["Initial report · deadline"] == dt.datetime(2025, 6, 16, 0, 20)
    assert row["Initial report · status"] == "Met"
    assert row["Formal report · status"] == "Overdue"
    assert row["Immediate report to TWSE · status"] == "Overdue"
    assert row["Interruption (minutes)"] == 90 and row["Exceeded tolerable time"] == "yes"
    assert ws.max_row == 2


def test_brokers_see_only_their_own_incidents(world, frozen):
    inc_a = _new(world)
    inc_b = isvc.create_incident(world.officer_b, world.b, {"title": "B-secret-incident", "category": "other",
                                                             "detected_at": "2025-06-15T22:00"})
    c = login_client(Client(), world.officer)
    assert "B-secret-incident" not in c.get("/incidents/").content.decode()
    assert c.get(f"/incidents/{inc_b.pk}/").status_code == 404
    assert c.post(f"/incidents/{inc_b.pk}/report/", {"stage": "initial"}).status_code == 404
    wb = load_workbook(io.BytesIO(c.get("/incidents/export.xlsx").content))
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert inc_a.code in cells and "B-secret-incident" not in cells  # an XLSX is zipped: read its cells
    reg = login_client(Client(), world.regulator)
    assert "B-secret-incident" in reg.get("/incidents/").content.decode()
    assert reg.post(f"/incidents/{inc_b.pk}/report/", {"stage": "initial"}).status_code == 403
    assert Incident.objects.get(pk=inc_b.pk).initial_reported_at is None  # read-only for the regulator
    assert reg.get("/incidents/new/").status_code == 403
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    ids = [i["id"] for i in api.get("/api/incidents").json()]
    assert ids == [inc_a.pk]
    assert api.get(f"/api/incidents/{inc_b.pk}").status_code == 404


def test_api_records_and_reports(world, frozen):
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    resp = api.post("/api/incidents", json.dumps({"title": "個資外洩", "category": "data_leak",
                                                  "detected_at": "2025-06-15T23:50:00+08:00",
                                                  "personal_data": ["leaked"]}), content_type="application/json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    clocks = {c["stage"]: c for c in body["clocks"]}
    assert clocks["initial"]["deadline"].startswith("2025-06-16T00:20:00+08:00")
    assert clocks["twse"]["state"] == "pending" and clocks["initial"]["seconds_left"] == 15 * 60
    bad = api.post("/api/incidents", json.dumps({"title": "x", "category": "nope", "detected_at": "2025-06-15T23:00"}),
                   content_type="application/json")
    assert bad.status_code == 400 and "category" in bad.json()["detail"]
    r = api.post(f"/api/incidents/{body['id']}/report", json.dumps({"stage": "twse"}), content_type="application/json")
    assert r.status_code == 200 and {c["stage"]: c for c in r.json()["clocks"]}["twse"]["state"] == "met"
    reg = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.regulator)}")
    assert reg.post(f"/api/incidents/{body['id']}/report", json.dumps({"stage": "initial"}),
                    content_type="application/json").status_code == 403
    assert Incident.objects.count() == 1 and not BcpFollowUp.objects.exists()
    assert Finding.objects.count() == 0


def test_overdue_clocks_stand_out_on_the_dashboard(world, frozen):
    inc = _new(world, personal_data=["leaked"])
    c = login_client(Client(), world.officer)
    assert 'id="incident-alerts"' not in c.get("/dashboard/").content.decode()  # 00:05: all clocks running
    frozen["now"] = at("2025-06-16T00:25")
    c = login_client(Client(), world.officer)
    page = c.get("/dashboard/").content.decode()
    assert 'id="incident-alerts"' in page and inc.code in page and "Immediate report to TWSE" in page
    other = login_client(Client(), world.officer_b)
    assert 'id="incident-alerts"' not in other.get("/dashboard/").content.decode()  # not B's business


def test_register_is_paged_newest_first(world):
    """A regulator's register spans every broker and year: 50 a page, every incident on exactly one page."""
    base = at("2025-01-01T09:00")
    for i in range(55):
        isvc.create_incident(world.officer, world.a, {
            "title": f"事件 {i:02d}", "category": "other", "customers_affected": "0", "estimated_amount": "0",
            "detected_at": (base + dt.timedelta(hours=i)).isoformat()})
    c = login_client(Client(), world.regulator)
    seen = []
    for page in (1, 2):
        html = c.get(f"/incidents/?page={page}").content.decode()
        seen.append([int(x) for x in re.findall(r"事件 (\d\d)", html)])
    assert len(seen[0]) == 50 and len(seen[1]) == 5
    assert seen[0] + seen[1] == list(range(54, -1, -1)), "newest first, none twice, none lost"
    assert "Page 1 of 2 · 1–50 of 55" in c.get("/incidents/?page=1").content.decode()
    overdue = c.get("/incidents/?state=overdue&page=2").content.decode()  # all late: no report was made
    assert len(re.findall(r"事件 \d\d", overdue)) == 5
    assert 'href="?state=overdue&amp;page=1"' in overdue, "the filter stays in the page links"
