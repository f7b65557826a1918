"""The regulator's own inspections (web/oversight): a selected-case inspection from the complaint to the
closed finding through the services, the pages and the API; immutable answers; the analyzers on what was
submitted; separation of duties; the versioned deduction table; reminders; the report; the thematic
comparison; and what a broker never sees."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ccinspect.checks.rules import load_rules
from ccinspect.web.accounts.models import AuditEvent, Role
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import Finding
from ccinspect.web.oversight import services as svc
from ccinspect.web.oversight.models import Answer, DeductionTable, Engagement, ImmutableError, Reminder
from ccinspect.web.regulator import metrics as m

from .conftest import login_client, make_user, token_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "evidence"
COMPLAINT = "INTERNAL-complaint: investor Mr X says his account was used from abroad"


@pytest.fixture
def ow(world):
    w = world
    w.insp1 = make_user("inspector1", w.reg, Role.REGULATOR, "查核人員", totp=True)
    w.insp2 = make_user("inspector2", w.reg, Role.REGULATOR, "查核人員", totp=True)
    w.sup = make_user("supervisor", w.reg, Role.REGULATOR_SUPERVISOR, "科長", totp=True)
    svc.ensure_deduction_table()
    return w


def _selected(w, org=None, **kw):
    args = dict(kind=Engagement.SELECTED, trigger="complaint", trigger_detail=COMPLAINT,
                title="選案查核：帳號異常登入", period_start="2025-01-01", period_end="2025-06-30",
                answer_due="2025-07-31", chapters=["CC-18000"], focus=[], systems="電子下單系統",
                inspector_ids=[w.insp1.pk, w.insp2.pk], supervisor_id=w.sup.pk)
    return svc.create_engagement(w.insp1, org or w.a, **(args | kw))


def test_request_list_follows_scope_tier_and_applicability(ow):
    w = ow
    eng = _selected(w)
    res = isvc.applicability(w.a, dt.date(2025, 6, 30))
    expected = [e.ref_id for e in res.applicable if e.requirement.assessable and e.ref_id.startswith("CC-18000.")]
    refs = list(eng.requests.values_list("ref_id", flat=True))
    assert refs == expected and len(refs) > 10
    assert eng.tier == res.tier and eng.framework_version == res.version
    acc = eng.requests.get(ref_id="CC-18000.2.f")  # the dormant-accounts rule's export
    glob = load_rules().analyzers["accounts"].evidence["accounts"]  # rules.yaml says where the export goes
    assert acc.method == "analyzer" and {x["glob"] for x in acc.layouts} == {glob}
    assert eng.requests.filter(method="document").exists()
    # a focus point's tiers decide whether it stands beside the item for this broker
    for r in eng.requests.all():
        for f in r.focus_points:
            assert f["id"] and f["text"]
    # Broker B (smaller, another tier) gets its own list for the same scope
    eng_b = _selected(w, w.b)
    res_b = isvc.applicability(w.b, dt.date(2025, 6, 30))
    assert list(eng_b.requests.values_list("ref_id", flat=True)) == [
        e.ref_id for e in res_b.applicable if e.requirement.assessable and e.ref_id.startswith("CC-18000.")]


def test_engagement_rules(ow):
    w = ow
    with pytest.raises(svc.ServiceError, match="supervisor cannot also be an inspector"):
        _selected(w, inspector_ids=[w.insp1.pk, w.sup.pk])
    with pytest.raises(svc.ServiceError, match="names its trigger"):
        _selected(w, trigger="")
    with pytest.raises(svc.ServiceError, match="supervisor"):
        _selected(w, supervisor_id=w.insp2.pk)  # an inspector is no supervisor
    with pytest.raises(svc.ServiceError, match="not a chapter"):
        _selected(w, chapters=["CC-99999"])
    with pytest.raises(PermissionDenied):  # a broker's user plans nothing
        svc.create_engagement(
            w.officer, w.a, kind="annual", title="x", period_start="2025-01-01", period_end="2025-06-30",
            answer_due="2025-07-31", chapters=["CC-18000"], inspector_ids=[w.insp1.pk], supervisor_id=w.sup.pk)
    assert not Engagement.objects.exists()


def test_selected_case_from_complaint_to_closed_finding(ow, settings):
    w = ow
    eng = _selected(w)
    officer = Client()
    login_client(officer, w.officer)
    # planned: the broker sees nothing yet
    assert officer.get(f"/oversight/{eng.pk}/").status_code == 404
    svc.send_requests(w.insp1, eng)
    page = officer.get(f"/oversight/{eng.pk}/").content.decode()
    assert "CC-18000.2.f" in page and COMPLAINT not in page and "INTERNAL" not in page

    # the broker answers: the accounts export where the analyzer reads it, and a written answer
    req = eng.requests.get(ref_id="CC-18000.2.f")
    data = (EXAMPLES / "accounts" / "order_system.csv").read_bytes()
    r = officer.post(f"/oversight/requests/{req.pk}/answer/", {
        "text": "帳號清單如附", "layout": "accounts:accounts",
        "file": SimpleUploadedFile("order_system.csv", data)})
    assert r.status_code == 302
    first = Answer.objects.get(request=req)
    assert first.layout_path == "accounts/order_system.csv" and first.evidence.sha256
    with pytest.raises(ImmutableError):
        first.text = "changed"
        first.save()
    with pytest.raises(ImmutableError):
        Answer.objects.filter(pk=first.pk).update(text="changed")
    # a better answer supersedes it; the old one stays
    officer.post(f"/oversight/requests/{req.pk}/answer/", {
        "text": "更正：帳號清單（含停用日）", "layout": "accounts:accounts", "supersedes_answer": first.pk,
        "file": SimpleUploadedFile("order_system.csv", data)})
    second = Answer.objects.exclude(pk=first.pk).get(request=req)
    assert second.supersedes_id == first.pk and Answer.objects.filter(request=req).count() == 2
    with pytest.raises(svc.ServiceError, match="superseded already"):
        svc.answer(w.officer, req, text="again", supersedes_id=first.pk)

    # the inspector runs the analyzers on what was submitted and sees their facts
    run = svc.run_analyzers(w.insp1, eng)
    assert run.inputs[0]["sha256"] == second.evidence.sha256
    dormant = next(x for x in run.results if x["ref_id"] == "CC-18000.2.f")
    assert dormant["status"] == "fail" and "dormant" in dormant["summary"]
    insp_page = login_client(Client(), w.insp1).get(f"/oversight/{eng.pk}/").content.decode()
    assert "wang.jh" in insp_page or "order_system.csv" in insp_page  # the facts name the file and account
    assert COMPLAINT in insp_page

    # the finding, with points from the deduction table in force
    o = svc.record_observation(w.insp1, eng, ref_id="CC-18000.2.f", title="久未使用帳號未停用", severity="high",
                               due_date="2025-09-30", description="1 個帳號逾 180 日未使用仍啟用")
    assert o.deduction_points == DeductionTable.in_force(dt.date.today()).points("high")
    with pytest.raises(svc.ServiceError, match="not on this inspection's request list"):
        svc.record_observation(w.insp1, eng, ref_id="CC-11000.1", title="x", severity="low", due_date="2025-09-30")
    with pytest.raises(PermissionDenied):  # the supervisor is no inspector of it
        svc.record_observation(w.sup, eng, ref_id="CC-18000.2.f", title="x", severity="low", due_date="2025-09-30")
    svc.submit_for_approval(w.insp1, eng)
    with pytest.raises(PermissionDenied):
        svc.approve(w.insp2, eng)
    # the report before approval: the regulator's draft, not the broker's
    assert officer.get(f"/oversight/{eng.pk}/report/html/").status_code == 403
    svc.approve(w.sup, eng, "核定")
    eng.refresh_from_db()
    assert eng.status == Engagement.APPROVED and eng.approved_by == w.sup
    f = Finding.objects.get(observation=o)
    assert f.source == Finding.REGULATOR and f.organisation == w.a and f.inspection is None
    assert float(f.deduction_points) == float(o.deduction_points)

    # the report: zh-TW with English, its legal basis, as PDF
    html = officer.get(f"/oversight/{eng.pk}/report/html/").content.decode()
    assert "臺灣證券交易所股份有限公司查核證券商作業辦法" in html and "Legal basis" in html
    assert "久未使用帳號未停用" in html and COMPLAINT not in html
    pdf = officer.get(f"/oversight/{eng.pk}/report/pdf/")
    body = b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
    assert pdf.status_code == 200 and body.startswith(b"%PDF-")

    # the broker remediates through the findings workflow; its own auditor cannot close a regulator's finding
    isvc.update_finding(w.officer, f, remediation_plan="停用久未使用帳號並每半年覆核")
    with pytest.raises(svc.ServiceError, match="regulator set"):
        isvc.update_finding(w.officer, f, due_date="2026-12-31")
    isvc.transition(w.officer, f, Finding.IN_PROGRESS)
    isvc.add_retest_evidence(w.officer, f, name="retest.csv", data=b"user,status\nwang.jh,disabled\n")
    isvc.transition(w.officer, f, Finding.READY)
    with pytest.raises(PermissionDenied):
        isvc.transition(w.auditor, f, Finding.CLOSED)
    # the regulator sends it back once, then accepts
    isvc.transition(w.insp2, f, Finding.IN_PROGRESS, "請補停用紀錄")
    isvc.add_retest_evidence(w.officer, f, name="retest2.csv", data=b"user,status,disabled_at\nwang.jh,disabled,2025-09-01\n")
    isvc.transition(w.officer, f, Finding.READY)
    r = login_client(Client(), w.insp2).post(f"/findings/{f.pk}/transition/", {"to": "closed", "note": "複查通過"})
    assert r.status_code == 302
    f.refresh_from_db()
    assert f.status == Finding.CLOSED and f.closed_by == w.insp2

    # nothing internal reached the broker's audit trail
    broker_audit = json.dumps(list(AuditEvent.objects.filter(organisation_id=w.a.pk).values("model", "changes")),
                              ensure_ascii=False)
    assert "INTERNAL" not in broker_audit and "oversight.Observation" not in broker_audit
    assert "oversight.Answer" in broker_audit


def test_broker_never_sees_internal_notes_over_api(ow):
    w = ow
    eng = _selected(w)
    svc.send_requests(w.insp1, eng)
    svc.add_note(w.insp1, eng, "INTERNAL note on the broker's CISO")
    svc.record_observation(w.insp1, eng, ref_id="CC-18000.2.f", title="INTERNAL draft finding", severity="low",
                           due_date="2025-09-30")
    broker = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer)}")
    for url in ("/api/oversight/engagements", f"/api/oversight/engagements/{eng.pk}",
                f"/api/oversight/engagements/{eng.pk}/requests"):
        r = broker.get(url)
        assert r.status_code == 200 and "INTERNAL" not in r.content.decode(), url
    reg = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.insp2)}")
    body = reg.get(f"/api/oversight/engagements/{eng.pk}").content.decode()
    assert "INTERNAL note" in body and "INTERNAL draft finding" in body
    # over the API: an answer, then the supervisor's approval
    req = eng.requests.get(ref_id="CC-18000.2.f")
    r = broker.post(f"/api/oversight/requests/{req.pk}/answers", {"text": "見附件"})
    assert r.status_code == 201 and r.json()["text"] == "見附件"
    svc.submit_for_approval(w.insp1, eng)
    sup = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.sup)}")
    assert reg.post(f"/api/oversight/engagements/{eng.pk}/approve", "{}", content_type="application/json"
                    ).status_code == 403
    r = sup.post(f"/api/oversight/engagements/{eng.pk}/approve", "{}", content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert Finding.objects.filter(source=Finding.REGULATOR, organisation=w.a).count() == 1


def test_deduction_table_versions(ow, monkeypatch):
    w = ow
    with pytest.raises(PermissionDenied):
        svc.add_deduction_table(w.insp1, "2030-01-01", {"low": 1, "medium": 2, "high": 3, "critical": 4})
    with pytest.raises(svc.ServiceError, match="critical"):
        svc.add_deduction_table(w.sup, "2030-01-01", {"low": 1, "medium": 2, "high": 3})
    with pytest.raises(svc.ServiceError, match="not a number"):
        svc.add_deduction_table(w.sup, "2030-01-01", {"low": "x", "medium": 2, "high": 3, "critical": 4})
    today = dt.date.today()
    svc.add_deduction_table(w.sup, today - dt.timedelta(days=1), {"low": 2, "medium": 4, "high": 8, "critical": 16})
    svc.add_deduction_table(w.sup, today + dt.timedelta(days=30), {"low": 3, "medium": 6, "high": 12,
                                                                   "critical": 24})
    with pytest.raises(svc.ServiceError, match="exists already"):
        svc.add_deduction_table(w.sup, today - dt.timedelta(days=1), {"low": 1, "medium": 1, "high": 1,
                                                                      "critical": 1})
    eng = _selected(w)
    o = svc.record_observation(w.insp1, eng, ref_id="CC-18000.2.f", title="t", severity="high", due_date="2025-09-30")
    assert o.deduction_points == 8  # the version in force today, not the future one
    page = login_client(Client(), w.officer).get("/oversight/deductions/").content.decode()
    assert "16.00" in page and "24.00" in page  # every version, read by the broker too
    r = login_client(Client(), w.sup).post("/oversight/deductions/", {
        "effective_from": "2031-01-01", "points_low": "1", "points_medium": "2", "points_high": "3",
        "points_critical": "5", "note": "2031"})
    assert r.status_code == 302 and DeductionTable.objects.filter(effective_from="2031-01-01").exists()


def test_reminders_once_a_day(ow):
    w = ow
    eng = _selected(w, answer_due=dt.date.today() + dt.timedelta(days=2))
    assert svc.send_reminders() == []  # not sent yet: no reminder
    svc.send_requests(w.insp1, eng)
    got = svc.send_reminders()
    assert [r.kind for r in got] == [Reminder.DUE_SOON] and len(got[0].ref_ids) == eng.requests.count()
    assert svc.send_reminders() == []  # once a day
    req = eng.requests.first()
    svc.answer(w.officer, req, text="ok")
    later = svc.send_reminders(dt.date.today() + dt.timedelta(days=5))
    assert [r.kind for r in later] == [Reminder.OVERDUE] and req.ref_id not in later[0].ref_ids
    officer = login_client(Client(), w.officer)
    assert 'id="reminders"' in officer.get(f"/oversight/{eng.pk}/").content.decode()
    n = eng.requests.count()
    assert f"{n - 1} / {n}" in officer.get("/oversight/").content.decode()  # not answered / items


def test_cli_reminders(ow):
    from typer.testing import CliRunner

    from ccinspect.cli import app

    w = ow
    eng = svc.send_requests(w.insp1, _selected(w, answer_due=dt.date.today() - dt.timedelta(days=1)))
    out = CliRunner().invoke(app, ["web", "oversight-remind"])
    assert out.exit_code == 0, out.output
    assert f"E-{eng.pk}" in out.output and "1 reminder(s)" in out.output
    again = CliRunner().invoke(app, ["web", "oversight-remind"])
    assert "0 reminder(s)" in again.output
    assert Reminder.objects.get().kind == Reminder.OVERDUE


def test_thematic_side_by_side(ow):
    w = ow
    c = make_user("officer_c", None, Role.SECURITY_OFFICER)
    from ccinspect.web.accounts.models import Organisation

    org_c = Organisation.objects.create(name="Broker C", profile={"capital": "60億", "internet_orders": True})
    c.organisation = org_c
    c.save()
    with pytest.raises(svc.ServiceError, match="at least one chapter"):
        svc.create_thematic(w.insp1, title="空", broker_ids=[w.a.pk], period_start="2025-01-01",
                            period_end="2025-06-30", answer_due="2025-07-31", inspector_ids=[w.insp1.pk],
                            supervisor_id=w.sup.pk)
    th = svc.create_thematic(w.insp1, title="專案查核：帳號管理", issue="accounts", broker_ids=[w.a.pk, w.b.pk, org_c.pk],
                             period_start="2025-01-01", period_end="2025-06-30", answer_due="2025-07-31",
                             chapters=["CC-18000"], inspector_ids=[w.insp1.pk], supervisor_id=w.sup.pk)
    engs = {e.organisation_id: e for e in th.engagements.all()}
    assert len(engs) == 3
    for e in engs.values():
        svc.send_requests(w.insp1, e)
    ref = "CC-18000.2.f"
    svc.answer(w.officer, engs[w.a.pk].requests.get(ref_id=ref), text="每半年覆核")
    svc.answer(w.officer_b, engs[w.b.pk].requests.get(ref_id=ref), text="每半年覆核 ")
    svc.answer(c, engs[org_c.pk].requests.get(ref_id=ref), text="未覆核")
    cmp = svc.comparison(th)
    row = next(r for r in cmp["rows"] if r["ref_id"] == ref)
    states = {e.organisation.name: cell["state"] for e, cell in zip(cmp["engagements"], row["cells"], strict=True)}
    assert states == {"Broker A": "same", "Broker B": "same", "Broker C": "differs"}
    other = next(r for r in cmp["rows"] if r["ref_id"] != ref)
    assert {cell["state"] for cell in other["cells"]} <= {"missing", "not_applicable"}
    assert cmp["not_answered"] == []  # each has answered something
    svc.answer(c, engs[org_c.pk].requests.get(ref_id=ref), text="已改為每月覆核", supersedes_id=Answer.objects.get(
        request__engagement=engs[org_c.pk]).pk)
    svc.answer(w.officer_b, engs[w.b.pk].requests.get(ref_id=ref), text="已改為每月覆核", supersedes_id=Answer.objects.get(
        request__engagement=engs[w.b.pk]).pk)
    row = next(r for r in svc.comparison(th)["rows"] if r["ref_id"] == ref)
    assert [cell["state"] for cell in row["cells"]] == ["differs", "same", "same"]  # the newest answers count
    page = login_client(Client(), w.insp2).get(f"/oversight/thematic/{th.pk}/").content.decode()
    assert "Broker C" in page and "Differs" in page
    # two answers that disagree: no majority, both differ
    d = svc.create_thematic(w.insp1, title="二家", broker_ids=[w.a.pk, w.b.pk], period_start="2025-01-01",
                            period_end="2025-06-30", answer_due="2025-07-31", chapters=["CC-18000"],
                            inspector_ids=[w.insp1.pk], supervisor_id=w.sup.pk)
    for e in d.engagements.all():
        svc.send_requests(w.insp1, e)
        svc.answer(w.officer if e.organisation == w.a else w.officer_b, e.requests.get(ref_id=ref),
                   text=f"answer of {e.organisation}")
    two = next(r for r in svc.comparison(d)["rows"] if r["ref_id"] == ref)
    assert [cell["state"] for cell in two["cells"]] == ["differs", "differs"]
    no_answer = svc.comparison(d)
    assert no_answer["not_answered"] == []
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.insp2)}").get(f"/api/oversight/thematic/{th.pk}/comparison")
    assert api.status_code == 200 and len(api.json()["brokers"]) == 3
    # a broker sees neither the comparison nor the others' answers
    b = login_client(Client(), w.officer_b)
    assert b.get(f"/oversight/thematic/{th.pk}/").status_code == 403
    assert b.get(f"/oversight/{engs[org_c.pk].pk}/").status_code == 404
    assert "未覆核" not in b.get(f"/oversight/{engs[w.b.pk].pk}/").content.decode()


def test_risk_map_uses_the_regulators_findings_by_default(ow):
    w = ow
    # a self-reported finding for A in 2025H1
    old = isvc.create_inspection(w.officer, w.a, "inspection:CC-18000:2024-12")
    item = old.items.filter(assessable=True).first()
    isvc.set_item_result(w.officer, item, "deficient")
    isvc.raise_finding(w.officer, item, title="self", severity="critical", due_date="2025-03-31")
    for it in old.items.filter(assessable=True).exclude(pk=item.pk):
        isvc.set_item_result(w.officer, it, "compliant")
    isvc.submit(w.officer, old)
    assert m.default_source() == m.SELF  # nothing approved by the regulator yet: says so on the page
    reg = login_client(Client(), w.insp1)
    assert 'id="source-fallback"' in reg.get("/regulator/").content.decode()
    # the regulator's inspection of B, approved, with a high finding
    eng = _selected(w, w.b, period_start="2024-07-01", period_end="2024-12-31")
    svc.send_requests(w.insp1, eng)
    svc.record_observation(w.insp1, eng, ref_id="CC-18000.2.f", title="reg", severity="high", due_date="2025-03-31")
    svc.submit_for_approval(w.insp1, eng)
    svc.approve(w.sup, eng)
    assert m.default_source() == m.REGULATOR
    d = m.risk_map("2024H2")
    rows = {r["name"]: r for r in d["brokers"]}
    assert d["source"] == m.REGULATOR
    assert rows["Broker B"]["points"] == 5.0 and rows["Broker A"]["points"] == 0.0
    assert rows["Broker A"]["points_beside"] == 10.0  # the self-reported, beside, not added
    s = m.risk_map("2024H2", source=m.SELF)
    assert {r["name"]: r["points"] for r in s["brokers"]} == {"Broker A": 10.0, "Broker B": 0.0}
    page = reg.get("/regulator/?period=2024H2").content.decode()
    assert 'id="source-label"' in page and "Regulator inspection findings" in page
    t = m.trends()
    assert t["source"] == m.REGULATOR and t["beside_totals"]["counts"][-1] == 1
    plan = svc.annual_plan(2025)
    by = {r["org"].name: r for r in plan}
    assert by["Broker B"]["last"] == dt.date(2024, 12, 31) and by["Broker A"]["last"] is None
    assert plan[0]["org"].name == "Broker A"  # never inspected: first on the plan
    assert by["Broker B"]["open_regulator"] == 1 and by["Broker A"]["open_self"] == 1
    page = reg.get("/oversight/plan/?year=2025").content.decode()
    assert page.index("Broker A") < page.index("Broker B") and "never" in page and "2024-12-31" in page
    assert login_client(Client(), w.officer).get("/oversight/plan/").status_code == 403


def test_demo_seed(ow):
    from ccinspect.web.oversight.demo import seed_oversight
    from ccinspect.web.oversight.models import AnalyzerRun, InspectorNote, ThematicInspection

    w = ow
    out = seed_oversight(dt.date.today())
    assert out["engagements"] >= 4
    assert seed_oversight(dt.date.today()) == {"engagements": 0}  # idempotent
    sel = Engagement.objects.get(kind=Engagement.SELECTED)
    assert sel.status == Engagement.REQUESTED and sel.organisation == w.a
    assert InspectorNote.objects.filter(engagement=sel, kind=InspectorNote.TRIGGER).exists()
    assert AnalyzerRun.objects.filter(engagement=sel).exists() and Reminder.objects.filter(engagement=sel).exists()
    issued = Finding.objects.filter(source=Finding.REGULATOR, organisation=w.a)
    assert sorted(issued.values_list("status", flat=True)) == [Finding.CLOSED, Finding.IN_PROGRESS]
    th = ThematicInspection.objects.get()
    assert th.engagements.count() == 2 and Answer.objects.filter(request__engagement__thematic=th).exists()
    assert m.default_source() == m.REGULATOR
