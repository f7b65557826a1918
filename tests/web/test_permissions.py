"""A broker's users never see or touch another broker's data: every page and every API endpoint, walked
from the URL patterns and the OpenAPI schema, so a new route is covered the day it is added."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver

from ccinspect.web import urls as web_urls
from ccinspect.web.accounts.models import Role
from ccinspect.web.api.api import api
from ccinspect.web.continuity import services as continuity
from ccinspect.web.continuity.models import MODELS as CONTINUITY_MODELS
from ccinspect.web.continuity.models import GapFinding
from ccinspect.web.incidents import services as incidents
from ccinspect.web.incidents.models import BcpFollowUp, Incident
from ccinspect.web.inspections.models import ChecklistItem, Evidence, Finding, FindingEvent, Inspection
from ccinspect.web.notification import services as notification
from ccinspect.web.notification.models import Case, Notification
from ccinspect.web.oversight import services as oversight
from ccinspect.web.oversight.models import Answer

from .conftest import deficient_with_finding, login_client, make_user, token_for

SECRET_MARKERS = ["Broker B", "B-secret-finding", "B-secret-incident", "B-secret-system"]  # also B's thematic


def _b_state(w):
    return (
        list(Inspection.objects.filter(organisation=w.b).values_list("status", "submitted_by")),
        list(ChecklistItem.objects.filter(inspection__organisation=w.b).values_list("result", "notes")),
        list(Finding.objects.filter(organisation=w.b).values_list("status", "remediation_plan", "owner")),
        Evidence.objects.filter(organisation=w.b).count(),
        FindingEvent.objects.filter(finding__organisation=w.b).count(),
        list(Incident.objects.filter(organisation=w.b).values_list(
            "title", "initial_reported_at", "formal_reported_at", "closure_reported_at", "personal_data")),
        list(BcpFollowUp.objects.filter(organisation=w.b).values_list("action", "done_at")),
        {k: sorted(map(str, m.objects.filter(organisation=w.b).values_list())) for k, m in CONTINUITY_MODELS.items()},
        GapFinding.objects.filter(organisation=w.b).count(),
        Answer.objects.filter(organisation=w.b).count(),
        list(Notification.objects.filter(organisation=w.b).values_list("status", "answer", "account")),
        list(Case.objects.filter(organisation=w.b).values_list("status", "lock_reset_done_at", "incident", "note")),
    )


@pytest.fixture
def bworld(world):
    w = world
    _item, w.ev_b, w.f_b = deficient_with_finding(w, w.insp_b, w.officer_b)
    Finding.objects.filter(pk=w.f_b.pk)  # title below marks B's data in responses
    w.f_b.title = "B-secret-finding"
    w.f_b.save()
    w.item_b = w.f_b.item
    deficient_with_finding(w)  # A has data of its own
    w.inc_b = incidents.create_incident(w.officer_b, w.b, {"title": "B-secret-incident", "category": "other",
                                                            "detected_at": "2025-06-01T10:00"})
    incidents.add_followup(w.officer_b, w.inc_b, action="B-secret-incident drill", due_date="2025-12-31")
    incidents.create_incident(w.officer, w.a, {"title": "A's own incident", "category": "other",
                                               "detected_at": "2025-06-01T10:00"})
    w.sys_b = continuity.save_record(w.officer_b, w.b, "systems", {"id": "SYS-B", "name": "B-secret-system",
                                                                    "owner": "B IT", "major_impact": True})
    continuity.save_record(w.officer_b, w.b, "drills", {
        "id": "DR-B", "kind": "bcp", "date": "2025-05-01", "scenario": "B-secret-system drill", "systems": "SYS-B",
        "target_rto_minutes": 10, "achieved_rto_minutes": 50, "result": "partial"})
    continuity.save_record(w.officer, w.a, "systems", {"id": "SYS-A", "name": "A's system", "owner": "A IT"})
    # the regulator's inspection of B (web/oversight), its request list sent
    w.reg_inspector = make_user("reg_inspector", w.reg, Role.REGULATOR, totp=True)
    w.reg_supervisor = make_user("reg_supervisor", w.reg, Role.REGULATOR_SUPERVISOR, totp=True)
    w.th_b = oversight.create_thematic(w.reg_inspector, title="B-secret-finding thematic", broker_ids=[w.b.pk],
                                       period_start="2025-01-01", period_end="2025-06-30", answer_due="2025-07-31",
                                       chapters=["CC-18000"], inspector_ids=[w.reg_inspector.pk],
                                       supervisor_id=w.reg_supervisor.pk)
    w.eng_b = oversight.send_requests(w.reg_inspector, w.th_b.engagements.get())
    w.req_b = w.eng_b.requests.first()
    # B's customer notification answered "not me", and its case
    notification.save_gateway(w.officer_b, w.b, {"channel": "webhook", "webhook_url": "http://127.0.0.1:9/x"})
    notification.request_notifications(w.b, [{"account": "B-secret-incident-customer", "kind": "new_source",
                                              "first": "2025-06-01T09:50"}], "2025-06-01T10:00", user=w.officer_b)
    w.notif_b = Notification.objects.get(organisation=w.b)
    w.case_b = Case.objects.get(notification=notification.answer(w.notif_b.token(), "not_me", via="api"))
    return w


def _page_patterns():
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("api/"):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append(prefix + str(p.pattern))

    walk(web_urls.urlpatterns)
    return out


PAGES = _page_patterns()


def _fill(route: str, w) -> str:
    """The route with broker B's ids (or a valid action name) in every parameter."""
    ids = {"pk": w.insp_b.pk, "item_pk": w.item_b.pk}
    if route.startswith("findings/"):
        ids["pk"] = w.f_b.pk
    if route.startswith("evidence/"):
        ids["pk"] = w.ev_b.pk
    if route.startswith("incidents/"):
        ids["pk"] = w.inc_b.pk
    if route.startswith("regulator/brokers/"):
        ids["pk"] = w.b.pk
    if route.startswith("continuity/"):
        ids["pk"] = w.sys_b.pk
    if route.startswith("notification/"):
        ids["pk"] = w.case_b.pk if route.startswith("notification/cases/") else w.notif_b.pk
        ids["insp_pk"] = w.insp_b.pk
    if route.startswith("oversight/"):
        ids["pk"] = (w.th_b.pk if route.startswith("oversight/thematic/") else
                     w.req_b.pk if route.startswith("oversight/requests/") else w.eng_b.pk)
    actions = {"inspections/": "submit", "findings/": "transition", "incidents/": "report",
               "reports/inspections/": "pdf", "continuity/": "systems", "oversight/": "send",
               "notification/": "escalate"}

    def sub(m):
        kind, name = m.group(1), m.group(2)
        if kind == "str":
            return next(v for k, v in actions.items() if route.startswith(k))
        return str(ids[name])

    return "/" + re.sub(r"<(\w+):(\w+)>", sub, route)


def test_every_page_is_walked():
    assert len(PAGES) >= 20
    assert any("<int:item_pk>" in p for p in PAGES)
    for route in ("regulator/", "regulator/now/", "regulator/trends/", "regulator/brokers/<int:pk>/", "incidents/",
                  "incidents/<int:pk>/<str:action>/", "incidents/export.xlsx", "reports/inspections/<int:pk>/<str:fmt>/",
                  "reports/tracking.xlsx", "reports/statement/", "continuity/", "continuity/<str:kind>/",
                  "continuity/<str:kind>/<int:pk>/", "continuity/<str:kind>/<int:pk>/delete/", "continuity/import/",
                  "continuity/finding/", "continuity/export.xlsx", "continuity/amendment/"):
        assert route in PAGES, route


@pytest.mark.parametrize("who", ["officer", "auditor", "admin"])
def test_broker_a_users_never_see_or_change_broker_b(bworld, who):
    w = bworld
    client = login_client(Client(), getattr(w, who))
    before = _b_state(w)
    checked = 0
    for route in PAGES:
        if route.startswith(("i18n/", "accounts/logout", "accounts/login")):
            continue
        url = _fill(route, w)
        has_b_object = "<int:" in route
        for method in ("get", "post"):
            data = {"to": "closed", "result": "compliant", "note": "x", "title": "t", "severity": "low",
                    "stage": "initial", "category": "other", "detected_at": "2025-06-01T10:00",
                    "due_date": "2025-12-31", "occurrence": "inspection:CC-18000:2025-04", "broker": w.b.pk,
                    "remediation_plan": "hijack", "file": SimpleUploadedFile("x.txt", b"hello"),
                    "rule": "drill-shortfall", "kind": "drills", "record": "DR-B", "item": w.item_b.pk,
                    "code": "SYS-B", "name": "hijack", "owner": "x"}
            resp = getattr(client, method)(url, data) if method == "post" else client.get(url)
            body = b"".join(resp.streaming_content) if resp.streaming else resp.content
            text = body.decode("utf-8", "replace")
            for marker in SECRET_MARKERS:
                assert marker not in text, f"{method.upper()} {url} shows broker B's data to {who}"
            if has_b_object or route.startswith("inspections/create"):
                assert resp.status_code in (403, 404, 405), f"{method.upper()} {url} -> {resp.status_code}"
            if route.startswith("regulator/"):  # the cross-broker views are the regulator's alone
                assert resp.status_code in (403, 405), f"{method.upper()} {url} -> {resp.status_code}"
            checked += 1
    assert _b_state(w) == before, "broker B's data changed"
    assert checked > 30


def test_regulator_reads_every_broker_but_changes_nothing(bworld):
    w = bworld
    client = login_client(Client(), w.regulator)
    assert client.get(f"/inspections/{w.insp_b.pk}/").status_code == 200
    assert "B-secret-finding" in client.get("/findings/").content.decode()
    before = _b_state(w)
    for route in PAGES:
        if "<int:" in route:
            resp = client.post(_fill(route, w), {"to": "closed", "result": "compliant", "note": "x",
                                                 "remediation_plan": "x"})
            assert resp.status_code in (302, 403, 405), route
    assert _b_state(w) == before


def test_anonymous_is_sent_to_sign_in(bworld):
    client = Client()
    for route in PAGES:
        if route.startswith(("accounts/login", "i18n/", "healthz", "accounts/logout")) or route == "":
            continue
        resp = client.get(_fill(route, bworld))
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"], route


# ---- API ------------------------------------------------------------------------------------------------

def _api_ops():
    schema = api.get_openapi_schema()
    return [(path, method) for path, ops in schema["paths"].items() for method in ops]


API_OPS = _api_ops()

BODIES = {
    "/api/inspections": {"broker_id": 0, "occurrence_id": "inspection:CC-18000:2025-04"},
    "/api/inspections/{inspection_id}/signoff": {"note": ""},
    "/api/inspections/{inspection_id}/results": {"results": [{"ref_id": "CC-18000.1", "status": "pass"}]},
    "/api/items/{item_id}": {"result": "compliant"},
    "/api/items/{item_id}/findings": {"title": "x", "severity": "low", "due_date": "2025-12-31"},
    "/api/findings/{finding_id}": {"remediation_plan": "hijack"},
    "/api/findings/{finding_id}/transition": {"to": "closed"},
    "/api/incidents": {"title": "x", "category": "other", "detected_at": "2025-06-01T10:00"},
    "/api/incidents/{incident_id}": {"title": "hijack"},
    "/api/incidents/{incident_id}/report": {"stage": "initial"},
    "/api/incidents/{incident_id}/findings": {"item_id": 0, "title": "x", "severity": "low", "due_date": "2025-12-31"},
    "/api/incidents/{incident_id}/bcp": {"action": "x", "due_date": "2025-12-31"},
    "/api/oversight/engagements/{engagement_id}/findings": {"ref_id": "CC-18000.1", "title": "x", "severity": "low",
                                                             "due_date": "2025-12-31"},
    "/api/oversight/engagements/{engagement_id}/approve": {"note": ""},
    "/api/brokers": {"name": "x", "profile": {"capital": "10億"}},
    "/api/brokers/{broker_id}": {"name": "x", "profile": {"capital": "10億"}},
    "/api/brokers/{broker_id}/retire": {"reason": "x"},
    "/api/users": {"username": "x", "role": "security_officer", "organisation_id": 0},
    "/api/users/{user_id}/disable": {"reason": "x"}, "/api/users/{user_id}/enable": {"reason": "x"},
    "/api/users/{user_id}/unlock": {"reason": "x"}, "/api/users/{user_id}/role": {"role": "computer_auditor"},
}


def test_api_walk_covers_every_endpoint():
    assert len(API_OPS) >= 20
    paths = {p for p, _m in API_OPS}
    assert {"/api/regulator/risk-map", "/api/regulator/brokers/{broker_id}", "/api/incidents",
            "/api/incidents/{incident_id}/report", "/api/reports/inspections/{inspection_id}",
            "/api/continuity/brokers/{broker_id}/status", "/api/continuity/brokers/{broker_id}/register"} <= paths


@pytest.mark.parametrize("who", ["officer", "auditor", "admin"])
def test_api_never_crosses_brokers(bworld, who):
    w = bworld
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(getattr(w, who))}")
    ids = {"inspection_id": w.insp_b.pk, "item_id": w.item_b.pk, "finding_id": w.f_b.pk,
           "evidence_id": w.ev_b.pk, "broker_id": w.b.pk, "ref_id": "CC-18000.1", "incident_id": w.inc_b.pk,
           "engagement_id": w.eng_b.pk, "request_id": w.req_b.pk, "thematic_id": w.th_b.pk,
           "user_id": w.officer_b.pk}
    before = _b_state(w)
    for path, method in API_OPS:
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        body = dict(BODIES.get(path, {}))
        if "broker_id" in body:
            body["broker_id"] = w.b.pk
        if "item_id" in body:
            body["item_id"] = w.item_b.pk
        if path.endswith(("/evidence", "/retest", "/answers")) and method == "post":
            resp = client.post(url, {"file": SimpleUploadedFile("x.txt", b"hello")})
        elif method == "get":
            resp = client.get(url)
        else:
            resp = getattr(client, method)(url, json.dumps(body), content_type="application/json")
        text = (b"".join(resp.streaming_content) if resp.streaming else resp.content).decode("utf-8", "replace")
        for marker in SECRET_MARKERS:
            assert marker not in text, f"{method.upper()} {url} leaks broker B to {who}"
        if path.startswith("/api/regulator"):
            assert resp.status_code == 403, f"{method.upper()} {url} -> {resp.status_code}"
        if path == "/api/notification/{broker_id}/answers":  # the gateway's: only its signature gets in
            assert resp.status_code == 401, f"{method.upper()} {url} -> {resp.status_code}: {text[:200]}"
        elif "{" in path and "ref_id" not in path:
            assert resp.status_code in (403, 404), f"{method.upper()} {url} -> {resp.status_code}: {text[:200]}"
        elif path == "/api/inspections" and method == "post":
            assert resp.status_code == 404
    assert _b_state(w) == before


def test_api_requires_a_token(bworld):
    client = Client()
    for path, method in API_OPS:
        url = re.sub(r"\{(\w+)\}", "1", path)
        resp = client.get(url) if method == "get" else getattr(client, method)(url, "{}",
                                                                             content_type="application/json")
        public = path.startswith("/api/catalog/")  # the regulation text (test_isolation.py)
        assert resp.status_code == (404 if public and "{" in path else 200 if public else 401), f"{method} {url}"
    assert Client(HTTP_AUTHORIZATION="Bearer cci_wrong").get("/api/inspections").status_code == 401


def test_api_regulator_reads_across_brokers(bworld):
    w = bworld
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.regulator)}")
    names = {b["name"] for b in client.get("/api/brokers").json()}
    assert {"Broker A", "Broker B"} <= names
    resp = client.patch(f"/api/items/{w.item_b.pk}", json.dumps({"result": "compliant"}),
                        content_type="application/json")
    assert resp.status_code == 403
