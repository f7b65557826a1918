"""The isolation matrix (issue 10): broker B's users, the regulator and an anonymous client against every URL
pattern and every API operation, with the path parameters filled with broker A's objects.

- broker B's users reach nothing of broker A's: 403/404 on A's objects, none of A's records in a list, A's
  data unchanged whatever they post, and no B record ever points at an A record;
- the regulator reads everything and changes nothing: no 2xx on any POST/PATCH, the whole database unchanged;
- the anonymous client is sent to sign in (pages) or gets 401 (API), except for the sign-in page, healthz,
  static files, the language switch and the public catalog (GET /api/catalog/…).

The routes come from the URL resolver and the operations from the OpenAPI schema; each must be classified in
PAGES or API below, so a new route or operation fails here until someone says who may reach it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from ccinspect.web.accounts.models import Organisation, Role
from ccinspect.web.api.api import api
from ccinspect.web.continuity import demo as continuity_demo
from ccinspect.web.continuity import services as continuity
from ccinspect.web.continuity.models import MODELS as CONTINUITY
from ccinspect.web.incidents import services as incidents
from ccinspect.web.inspections import services as svc
from ccinspect.web.notification import services as notification
from ccinspect.web.notification.models import Notification
from ccinspect.web.oversight import services as oversight

from .conftest import login_client, make_user, token_for

# ---- the classification -----------------------------------------------------------------------------------

PUBLIC = "public"  # anonymous too
ALIAS = "alias"  # a redirect to another page
NOT_FOUND = "not-found"  # 404 for everyone (django-ninja's /api/ root)
OWN_ACCOUNT = "own-account"  # the signed-in user's own password, MFA, tokens
ORG_ADMIN = "org-admin"  # the users of the admin's own organisation
SITE_ADMIN = "site-admin"  # the site administrators' pages: onboarding, editing and retiring brokers
LIST = "list"  # the user's own broker's records (every broker's for the regulator)
CREATE = "create"  # creates a record in the user's own broker
OBJECT = "object"  # one broker's object, named in the path
REGULATOR = "regulator"  # the regulator's cross-broker views
OVERSIGHT = "oversight"  # the regulator's own inspection work (plan, new, thematic): brokers get 403
SIGNED_IN = "signed-in"  # anyone signed in (or with a token): the API docs and schema
BROKER_ONLY = "broker-only"  # one broker's object with its customers' data: the regulator gets 404 too
SIGNED = "signed"  # the broker's gateway, authenticated by its signing secret: 401 for every other caller


@dataclass(frozen=True)
class Page:
    kind: str
    pk: str = ""  # the object <pk> names: inspection, finding, evidence, incident, broker, record
    values: tuple[str, ...] = ()  # what a <str:…> parameter takes


KINDS = tuple(CONTINUITY)

PAGES = {
    "": Page(ALIAS),
    "healthz": Page(PUBLIC),
    "i18n/setlang/": Page(PUBLIC),
    "accounts/login/": Page(PUBLIC),
    "accounts/logout/": Page(PUBLIC),
    "accounts/password/": Page(OWN_ACCOUNT),
    "accounts/mfa/": Page(OWN_ACCOUNT),
    "accounts/tokens/": Page(OWN_ACCOUNT),
    "accounts/users/": Page(ORG_ADMIN),
    "brokers/": Page(SITE_ADMIN),
    "brokers/new/": Page(SITE_ADMIN),
    "brokers/<int:pk>/": Page(SITE_ADMIN, "broker"),
    "brokers/<int:pk>/retire/": Page(SITE_ADMIN, "broker"),
    "audit/": Page(LIST),
    "dashboard/": Page(LIST),
    "inspections/": Page(LIST),
    "inspections/plan/": Page(LIST),
    "inspections/create/": Page(CREATE),
    "inspections/<int:pk>/": Page(OBJECT, "inspection"),
    "inspections/<int:pk>/import/": Page(OBJECT, "inspection"),
    "inspections/<int:pk>/<str:action>/": Page(OBJECT, "inspection", ("submit", "signoff", "return")),
    "inspections/<int:pk>/items/<int:item_pk>/": Page(OBJECT, "inspection"),
    "inspections/<int:pk>/items/<int:item_pk>/evidence/": Page(OBJECT, "inspection"),
    "inspections/<int:pk>/items/<int:item_pk>/finding/": Page(OBJECT, "inspection"),
    "inspections/<int:pk>/items/<int:item_pk>/finding/create/": Page(OBJECT, "inspection"),
    "evidence/<int:pk>/download/": Page(OBJECT, "evidence"),
    "findings/": Page(LIST),
    "findings/<int:pk>/": Page(OBJECT, "finding"),
    "findings/<int:pk>/<str:action>/": Page(OBJECT, "finding", ("update", "retest", "transition")),
    "settings/deductions/": Page(LIST),  # one table for every broker: read by all, changed by the site admin
    "incidents/": Page(LIST),
    "incidents/new/": Page(CREATE),
    "incidents/export.xlsx": Page(LIST),
    "incidents/<int:pk>/": Page(OBJECT, "incident"),
    "incidents/<int:pk>/<str:action>/": Page(OBJECT, "incident", ("update", "report", "finding", "bcp", "bcp_done")),
    "regulator/": Page(REGULATOR),
    "regulator/now/": Page(REGULATOR),
    "regulator/trends/": Page(REGULATOR),
    "regulator/brokers/<int:pk>/": Page(REGULATOR, "broker"),
    "reports/inspections/<int:pk>/<str:fmt>/": Page(OBJECT, "inspection", ("html", "xlsx", "pdf")),
    "reports/tracking.xlsx": Page(LIST),
    "reports/statement/": Page(LIST),
    "continuity/": Page(LIST),
    "continuity/amendment/": Page(LIST),
    "continuity/import/": Page(CREATE),
    "continuity/export.xlsx": Page(LIST),
    "continuity/template.xlsx": Page(LIST),
    "continuity/finding/": Page(CREATE),
    "continuity/<str:kind>/": Page(LIST, "", KINDS),
    "continuity/<str:kind>/<int:pk>/": Page(OBJECT, "record", KINDS),
    "continuity/<str:kind>/<int:pk>/delete/": Page(OBJECT, "record", KINDS),
    "oversight/": Page(LIST),
    "oversight/plan/": Page(OVERSIGHT),
    "oversight/new/": Page(OVERSIGHT),
    "oversight/deductions/": Page(LIST),  # the exchange's table: read by all, a version added by its supervisor
    "oversight/thematic/": Page(OVERSIGHT),
    "oversight/thematic/<int:pk>/": Page(OVERSIGHT, "thematic"),
    "oversight/requests/<int:pk>/answer/": Page(OBJECT, "request"),
    "oversight/<int:pk>/": Page(OBJECT, "engagement"),
    "oversight/<int:pk>/report/<str:fmt>/": Page(OBJECT, "engagement", ("html", "pdf")),
    "oversight/<int:pk>/<str:action>/": Page(OBJECT, "engagement", ("send", "note", "analyze", "finding", "submit",
                                                                     "approve", "return")),
    "notification/": Page(LIST),  # the regulator and the site admin: counts per broker only
    "notification/<int:pk>/": Page(BROKER_ONLY, "notification"),
    "notification/cases/": Page(LIST),
    "notification/cases/<int:pk>/": Page(BROKER_ONLY, "case"),
    "notification/cases/<int:pk>/<str:action>/": Page(BROKER_ONLY, "case", ("escalate", "close", "lock-done")),
    "notification/settings/": Page(CREATE),
    "notification/templates/": Page(CREATE),
    "notification/point16/<int:insp_pk>/": Page(OBJECT, "inspection"),
    # django-ninja's own routes; the operations are classified in API
    "api/": Page(NOT_FOUND),
    "api/openapi.json": Page(SIGNED_IN),
    "api/docs": Page(SIGNED_IN),
}

API = {
    ("get", "/api/catalog/requirements"): PUBLIC,
    ("get", "/api/catalog/requirements/{ref_id}"): PUBLIC,
    ("get", "/api/brokers"): LIST,
    ("get", "/api/brokers/{broker_id}/applicability"): OBJECT,
    ("post", "/api/brokers"): CREATE,  # site administrators only
    ("get", "/api/brokers/{broker_id}/record"): OBJECT,
    ("put", "/api/brokers/{broker_id}"): OBJECT,  # site administrators only
    ("post", "/api/brokers/{broker_id}/retire"): OBJECT,  # site administrators only
    ("get", "/api/users"): ORG_ADMIN,
    ("post", "/api/users"): CREATE,
    ("post", "/api/users/{user_id}/disable"): OBJECT,
    ("post", "/api/users/{user_id}/enable"): OBJECT,
    ("post", "/api/users/{user_id}/role"): OBJECT,
    ("post", "/api/users/{user_id}/unlock"): OBJECT,
    ("get", "/api/inspections"): LIST,
    ("post", "/api/inspections"): CREATE,
    ("get", "/api/inspections/{inspection_id}"): OBJECT,
    ("get", "/api/inspections/{inspection_id}/items"): OBJECT,
    ("post", "/api/inspections/{inspection_id}/submit"): OBJECT,
    ("post", "/api/inspections/{inspection_id}/signoff"): OBJECT,
    ("post", "/api/inspections/{inspection_id}/results"): OBJECT,
    ("get", "/api/inspections/{inspection_id}/evidence"): OBJECT,
    ("get", "/api/items/{item_id}"): OBJECT,
    ("patch", "/api/items/{item_id}"): OBJECT,
    ("post", "/api/items/{item_id}/evidence"): OBJECT,
    ("get", "/api/evidence/{evidence_id}"): OBJECT,
    ("get", "/api/evidence/{evidence_id}/download"): OBJECT,
    ("get", "/api/findings"): LIST,
    ("post", "/api/items/{item_id}/findings"): OBJECT,
    ("get", "/api/findings/{finding_id}"): OBJECT,
    ("patch", "/api/findings/{finding_id}"): OBJECT,
    ("post", "/api/findings/{finding_id}/transition"): OBJECT,
    ("post", "/api/findings/{finding_id}/retest"): OBJECT,
    ("get", "/api/incidents"): LIST,
    ("post", "/api/incidents"): CREATE,
    ("get", "/api/incidents/{incident_id}"): OBJECT,
    ("patch", "/api/incidents/{incident_id}"): OBJECT,
    ("post", "/api/incidents/{incident_id}/report"): OBJECT,
    ("post", "/api/incidents/{incident_id}/findings"): OBJECT,
    ("post", "/api/incidents/{incident_id}/bcp"): OBJECT,
    ("get", "/api/regulator/risk-map"): REGULATOR,
    ("get", "/api/regulator/risk-now"): REGULATOR,
    ("get", "/api/regulator/trends"): REGULATOR,
    ("get", "/api/regulator/brokers/{broker_id}"): REGULATOR,
    ("get", "/api/reports/inspections/{inspection_id}"): OBJECT,
    ("get", "/api/reports/tracking"): LIST,
    ("get", "/api/continuity/brokers/{broker_id}/status"): OBJECT,
    ("get", "/api/continuity/brokers/{broker_id}/register"): OBJECT,
    ("get", "/api/oversight/engagements"): LIST,
    ("get", "/api/oversight/engagements/{engagement_id}"): OBJECT,
    ("get", "/api/oversight/engagements/{engagement_id}/requests"): OBJECT,
    ("post", "/api/oversight/requests/{request_id}/answers"): OBJECT,
    ("post", "/api/oversight/engagements/{engagement_id}/findings"): OBJECT,
    ("post", "/api/oversight/engagements/{engagement_id}/approve"): OBJECT,
    ("get", "/api/oversight/thematic/{thematic_id}/comparison"): REGULATOR,
    ("get", "/api/oversight/deductions"): LIST,
    ("post", "/api/notification/{broker_id}/answers"): SIGNED,
    ("get", "/api/notification/lock-requests"): LIST,
}

# which object an API path parameter names (ref_id is a catalog requirement: the same for every broker)
API_PARAMS = {"inspection_id": "inspection", "item_id": "item", "finding_id": "finding", "evidence_id": "evidence",
              "incident_id": "incident", "broker_id": "broker", "ref_id": "ref_id", "engagement_id": "engagement",
              "request_id": "request", "thematic_id": "thematic", "user_id": "officer"}


def _api_body(method: str, path: str, o) -> tuple[str, dict] | None:
    """A valid request body for the operation, its ids taken from `o` (one broker's objects)."""
    f = {"/api/inspections": {"broker_id": o.broker, "occurrence_id": "inspection:CC-18000:2025-04"},
         "/api/inspections/{inspection_id}/signoff": {"note": "hijack"},
         "/api/inspections/{inspection_id}/results": {"results": [{"ref_id": o.ref_id, "status": "pass"}]},
         "/api/items/{item_id}": {"result": "compliant", "notes": "hijack"},
         "/api/items/{item_id}/findings": {"title": "hijack", "severity": "low", "due_date": "2025-12-31",
                                           "owner_id": o.officer},
         "/api/findings/{finding_id}": {"remediation_plan": "hijack", "owner_id": o.officer},
         "/api/findings/{finding_id}/transition": {"to": "in_progress", "note": "hijack"},
         "/api/incidents": {"title": "hijack", "category": "other", "detected_at": "2025-06-01T10:00"},
         "/api/incidents/{incident_id}": {"title": "hijack"},
         "/api/incidents/{incident_id}/report": {"stage": "initial"},
         "/api/incidents/{incident_id}/findings": {"item_id": o.item, "title": "hijack", "severity": "low",
                                                   "due_date": "2025-12-31"},
         "/api/incidents/{incident_id}/bcp": {"action": "hijack", "due_date": "2025-12-31", "owner_id": o.officer},
         "/api/oversight/engagements/{engagement_id}/findings": {"ref_id": o.ref_id, "title": "hijack",
                                                                  "severity": "low", "due_date": "2025-12-31"},
         "/api/oversight/engagements/{engagement_id}/approve": {"note": "hijack"},
         "/api/brokers": {"name": "hijack", "profile": {"capital": "10億"}},
         "/api/brokers/{broker_id}": {"name": "hijack", "profile": {"capital": "10億"}},
         "/api/brokers/{broker_id}/retire": {"reason": "hijack"},
         "/api/users": {"username": "intruder", "role": Role.SECURITY_OFFICER, "organisation_id": o.broker},
         "/api/users/{user_id}/disable": {"reason": "hijack"}, "/api/users/{user_id}/enable": {"reason": "hijack"},
         "/api/users/{user_id}/unlock": {"reason": "hijack"}, "/api/users/{user_id}/role": {"role": Role.BROKER_ADMIN},
         "/api/notification/{broker_id}/answers": {"token": o.token, "answer": "not_me"}}
    multipart = {"/api/items/{item_id}/evidence": {"note": "hijack", "supersedes_id": o.evidence},
                 "/api/findings/{finding_id}/retest": {"note": "hijack"},
                 "/api/oversight/requests/{request_id}/answers": {"text": "hijack", "supersedes_id": o.answer}}
    if path in multipart:
        return "multipart", multipart[path]
    if path in f:
        return "json", f[path]
    return None


def _page_post(o, *, reset: bool = False) -> dict:
    """One form that fills every field any page reads, its ids taken from `o`."""
    data = {"to": "in_progress", "result": "compliant", "notes": "hijack", "note": "hijack", "title": "hijack",
            "severity": "low", "stage": "initial", "category": "other", "detected_at": "2025-06-01T10:00",
            "due_date": "2025-12-31", "occurrence": "inspection:CC-18000:2025-04", "broker": o.broker,
            "remediation_plan": "hijack", "rule": "drill-shortfall", "kind": "drills", "record": o.drill_code,
            "item": o.item, "owner": o.officer, "supersedes": o.evidence, "followup": o.followup, "action": "hijack",
            "organisation": o.broker, "username": "intruder", "role": Role.SECURITY_OFFICER, "id": "SYS-X",
            "name": "hijack", "points_low": "99", "language": "en", "next": "/dashboard/",
            "supersedes_answer": o.answer, "ref_id": o.ref_id, "text": "hijack", "layout": "accounts:accounts",
            "file": SimpleUploadedFile("x.txt", b"hello\n")}
    if reset:
        data["reset"] = o.officer
    return data


# ---- walking the routes and the operations ----------------------------------------------------------------

def _routes():
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    return out


def _api_ops():
    schema = api.get_openapi_schema()
    return [(method, path) for path, ops in schema["paths"].items() for method in ops]


ROUTES = _routes()
API_ROUTES = {r for r in ROUTES if r.startswith("api/")}
PAGE_ROUTES = [r for r in dict.fromkeys(ROUTES) if not r.startswith("api/") or r in PAGES]
API_OPS = _api_ops()


def _api_route(path: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", path.removeprefix("/"))


def test_every_route_and_operation_is_classified():
    """A new URL pattern or API operation fails here until PAGES or API says who may reach it."""
    pages = set(ROUTES) - {_api_route(p) for _m, p in API_OPS}
    assert not pages - set(PAGES), f"classify these URL patterns in PAGES: {sorted(pages - set(PAGES))}"
    assert not set(PAGES) - pages, f"PAGES names routes that no longer exist: {sorted(set(PAGES) - pages)}"
    ops = set(API_OPS)
    assert not ops - set(API), f"classify these API operations in API: {sorted(ops - set(API))}"
    assert not set(API) - ops, f"API names operations that no longer exist: {sorted(set(API) - ops)}"
    # every resolver route under api/ is an operation or one of ninja's own pages
    assert API_ROUTES == {_api_route(p) for _m, p in API_OPS} | {r for r in PAGES if r.startswith("api/")}
    for method, path in API_OPS:
        params = re.findall(r"\{(\w+)\}", path)
        assert set(params) <= set(API_PARAMS), f"{method} {path}: say which object {params} names in API_PARAMS"
        if method != "get":
            assert API[(method, path)] in (OBJECT, CREATE, SIGNED), f"{method} {path}"
            op = api.get_openapi_schema()["paths"][path][method]
            if "requestBody" in op:
                assert _api_body(method, path, _Ids()) is not None, f"{method} {path}: add a body to _api_body"
    assert len(PAGES) >= 60 and len(API) >= 46


class _Ids(SimpleNamespace):
    def __getattr__(self, name):
        return 0


# ---- the data: two brokers with a record in every table ---------------------------------------------------

SECRET = "A-SECRET"


def _broker_data(w, org, officer, insp, tag: str):
    items = list(insp.items.filter(assessable=True))
    item = svc.set_item_result(officer, items[0], "deficient", notes=f"{tag} note")
    ev = svc.add_evidence(officer, item, name=f"{tag}-evidence.txt", data=f"{tag} evidence\n".encode())
    f = svc.raise_finding(officer, item, title=f"{tag} finding", severity="high", due_date="2025-07-31",
                          owner_id=officer.pk, remediation_plan=f"{tag} plan")
    inc = incidents.create_incident(officer, org, {"title": f"{tag} incident", "category": "other",
                                                   "detected_at": "2025-06-01T10:00"})
    fu = incidents.add_followup(officer, inc, action=f"{tag} follow-up", due_date="2025-12-31")
    continuity_demo.seed(org, officer, timezone.localdate())
    continuity.save_record(officer, org, "systems", {"id": f"SYS-{tag}", "name": f"{tag} system", "owner": tag})
    continuity.save_record(officer, org, "tolerance_classes", {"id": f"TC-{tag}", "max_tolerable_minutes": 60,
                                                               "source": f"{tag} source"})
    rows = {k: m.objects.filter(organisation=org).order_by("pk").first() for k, m in CONTINUITY.items()}
    assert all(rows.values()), f"a continuity kind has no record: {rows}"
    # the regulator's inspection of the broker: requested, answered, a finding, approved (the report is the
    # broker's to read), one more answer's worth of history; its notes name the broker's secret
    th = oversight.create_thematic(w.reg_inspector, title=f"{tag} thematic", broker_ids=[org.pk],
                                   period_start="2025-01-01", period_end="2025-06-30", answer_due="2025-07-31",
                                   chapters=["CC-18000"], inspector_ids=[w.reg_inspector.pk],
                                   supervisor_id=w.reg_supervisor.pk)
    eng = th.engagements.get()
    oversight.add_note(w.reg_inspector, eng, f"{tag} internal note")
    oversight.send_requests(w.reg_inspector, eng)
    req = eng.requests.get(ref_id=item.ref_id) if eng.requests.filter(ref_id=item.ref_id).exists() \
        else eng.requests.first()
    ans = oversight.answer(officer, req, text=f"{tag} answer")
    oversight.record_observation(w.reg_inspector, eng, ref_id=req.ref_id, title=f"{tag} regulator finding",
                                 severity="low", due_date="2025-12-31")
    oversight.submit_for_approval(w.reg_inspector, eng)
    oversight.approve(w.reg_supervisor, eng)
    # customer notification: a gateway (never called here), a notification answered "not me", its case
    gw, secret = notification.save_gateway(officer, org, {"channel": "webhook", "webhook_url": "http://127.0.0.1:9/x"})
    notification.request_notifications(org, [{"account": f"{tag}-acct-1", "kind": "account_takeover",
                                              "ips": ["203.0.113.7"], "first": "2025-06-01T09:50"},
                                             {"account": f"{tag}-acct-2", "kind": "new_source", "country": "JP",
                                              "first": "2025-06-01T09:55"}], "2025-06-01T10:00", user=officer)
    n1, n2 = Notification.objects.filter(organisation=org).order_by("pk")
    notification.answer(n1.token(), "not_me", via="api")
    return SimpleNamespace(broker=org.pk, inspection=insp.pk, item=item.pk, ref_id=item.ref_id, evidence=ev.pk,
                           notification=n1.pk, case=n1.case.pk, token=n2.token(), secret=secret,
                           finding=f.pk, incident=inc.pk, followup=fu.pk, officer=officer.pk,
                           engagement=eng.pk, request=req.pk, thematic=th.pk, answer=ans.pk,
                           records={k: r.pk for k, r in rows.items()},
                           drill_code=CONTINUITY["drills"].objects.filter(organisation=org).first().code)


@pytest.fixture
def iso(world):
    w = world
    w.admin_b = make_user("admin_b", w.b, Role.BROKER_ADMIN, totp=True)
    # the regulator's staff who run its inspections (w.regulator is not assigned to them)
    w.reg_inspector = make_user("reg_inspector", w.reg, Role.REGULATOR, totp=True)
    w.reg_supervisor = make_user("reg_supervisor", w.reg, Role.REGULATOR_SUPERVISOR, totp=True)
    oversight.ensure_deduction_table()
    # a signed-off half-year, so the regulator's views have a period to show
    old = svc.create_inspection(w.officer, w.a, "inspection:CC-18000:2024-12")
    for it in old.items.filter(assessable=True):
        svc.set_item_result(w.officer, it, "compliant")
    svc.submit(w.officer, old)
    svc.sign_off(w.auditor, old)
    w.oa = _broker_data(w, w.a, w.officer, w.insp_a, SECRET)
    w.ob = _broker_data(w, w.b, w.officer_b, w.insp_b, "B-own")
    return w


# A's data shows as these strings; none may reach B's users
def _markers(w):
    return [SECRET, "Broker A", w.officer.username, w.auditor.username, w.admin.username]


# ---- the state: what belongs to broker A, and the whole database ------------------------------------------

GLOBAL = {"inspections.DeductionRule",  # one table for every broker
          "oversight.DeductionTable", "oversight.DeductionEntry",  # the exchange's table, versioned
          "oversight.ThematicInspection",  # one issue across brokers; each broker's part is its engagement
          "notification.SeenSignature"}  # digests of accepted gateway callbacks (replay refusal)
CHAIN = {"accounts.AuditEvent", "accounts.AuditChainHead"}  # the audit trail; A's events are checked by org id
VOLATILE = {"last_login", "last_used_at"}  # a request may touch these


def _project_models():
    return [m for m in apps.get_models(include_auto_created=True) if m.__module__.startswith("ccinspect")
            or (m._meta.auto_created and m._meta.auto_created.__module__.startswith("ccinspect"))]


def _org_path(model, seen=()) -> str | None:
    """The lookup from `model` to the broker it belongs to, or None."""
    if model is Organisation:
        return "pk"
    fks = [f for f in model._meta.get_fields() if isinstance(f, models.ForeignKey)]
    for f in fks:
        if f.related_model is Organisation:
            return f"{f.name}_id"
    for f in fks:
        if f.related_model not in seen and f.related_model is not model:
            inner = _org_path(f.related_model, (*seen, model))
            if inner is not None and inner != "pk":
                return f"{f.name}__{inner}"
    return None


def test_every_model_is_owned_or_global():
    """A new table is either a broker's (reachable through a foreign key) or named GLOBAL or CHAIN here."""
    for m in _project_models():
        assert _org_path(m) is not None or m._meta.label in GLOBAL | CHAIN, (
            f"{m._meta.label}: no path to an Organisation; name it in GLOBAL or CHAIN in test_isolation.py")


def _rows(qs) -> list:
    fields = [f.attname for f in qs.model._meta.concrete_fields if f.attname not in VOLATILE]
    return sorted(map(repr, qs.values_list(*fields)))


def _state_of(org_pk: int) -> dict:
    """Every row of broker A's, in every table, and the global tables."""
    out = {}
    for m in _project_models():
        label = m._meta.label
        path = _org_path(m)
        if label in GLOBAL:
            out[label] = _rows(m.objects.all())
        elif label == "accounts.AuditEvent":
            out[label] = m.objects.filter(organisation_id=org_pk).count()
        elif path is not None:
            out[label] = _rows(m.objects.filter(**{path: org_pk}))
    return out


def _whole_db() -> dict:
    return {m._meta.label: _rows(m.objects.all()) for m in _project_models() if m._meta.label not in CHAIN}


def _cross_links() -> list[str]:
    """Rows of one broker that point at another broker's rows (a B finding owned by an A user, …)."""
    bad = []
    for m in _project_models():
        mine = _org_path(m)
        if mine is None or m is Organisation:
            continue
        for f in m._meta.get_fields():
            if not isinstance(f, models.ForeignKey) or f.related_model is Organisation:
                continue
            theirs = _org_path(f.related_model)
            if theirs is None or f"{f.name}_id" == mine or mine.startswith(f"{f.name}__"):
                continue
            target = f"{f.name}__{theirs}"
            # the regulator's staff (its inspectors, the findings they issue) are no other broker
            qs = m.objects.filter(**{f"{f.name}__isnull": False, f"{target}__isnull": False,
                                     target.removesuffix("_id") + "__kind": Organisation.BROKER}).exclude(
                **{mine: models.F(target)})
            bad += [f"{m._meta.label}.{f.name} -> {pk}" for pk in qs.values_list("pk", flat=True)]
    return bad


# ---- requests ---------------------------------------------------------------------------------------------

def _urls(route: str, page: Page, o) -> list[str]:
    """The route with `o`'s objects in its parameters, once per value of a <str:…> parameter."""
    out = []
    for value in page.values or ("",):
        def sub(m, value=value):
            kind, name = m.group(1), m.group(2)
            if kind == "str":
                return value
            if name == "item_pk":
                return str(o.item)
            if page.pk == "record":
                return str(o.records[value])
            return str(getattr(o, page.pk))

        out.append("/" + re.sub(r"<(\w+):(\w+)>", sub, route))
    return out


def _api_url(path: str, o) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(getattr(o, API_PARAMS[m.group(1)])), path)


def _api_call(client, method: str, path: str, path_objs, body_objs, **extra):
    url = _api_url(path, path_objs)
    body = _api_body(method, path, body_objs)
    if method == "get":
        return client.get(url, **extra)
    if body is None:
        return getattr(client, method)(url, **extra)
    kind, data = body
    if kind == "multipart":
        return client.post(url, {**data, "file": SimpleUploadedFile("x.txt", b"hello\n")}, **extra)
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", **extra)


def _text(resp) -> str:
    """Everything a response shows: the body, or every part of an XLSX workbook."""
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            body = b"".join(z.read(n) for n in z.namelist())
    return body.decode("utf-8", "replace")


def _leaks(text: str, markers) -> list[str]:
    return [m for m in markers if m in text]


def _broker_ids(value) -> set:
    """Every broker_id in a JSON response."""
    if isinstance(value, dict):
        found = {value["broker_id"]} if "broker_id" in value else set()
        return found.union(*(_broker_ids(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_broker_ids(v) for v in value))
    return set()


OTHER_METHODS = ("put", "patch", "delete")  # no page takes them: each view names its methods


def _other_methods(client, route: str, page: Page, o) -> list[tuple[str, str, object]]:
    url = _urls(route, page, o)[0]  # one URL per view is enough for its methods
    return [(m.upper(), url, getattr(client, m)(url)) for m in OTHER_METHODS]


# ---- broker B's users against broker A -------------------------------------------------------------------

B_USERS = ["officer_b", "auditor_b", "admin_b"]


@pytest.mark.parametrize("who", B_USERS)
def test_pages_broker_b_reaches_nothing_of_broker_a(iso, who):
    w = iso
    client = login_client(Client(), getattr(w, who))
    before = _state_of(w.a.pk)
    markers = _markers(w)
    problems, seen = [], 0
    for route in PAGE_ROUTES:
        page = PAGES[route]
        if page.kind in (PUBLIC, ALIAS, NOT_FOUND, SIGNED_IN):
            continue
        for url in _urls(route, page, w.oa):
            tries = [("GET", client.get(url)), ("POST", client.post(url, _page_post(w.oa)))]
            if page.kind not in (OBJECT, BROKER_ONLY):  # ask a list for A's records, the admin page to reset A's officer
                query = f"?broker={w.a.pk}&status=open&state=open&format=html&year=2025"
                tries += [("GET", client.get(url + query)), ("POST", client.post(url, _page_post(w.oa, reset=True)))]
            for method, resp in tries:
                seen += 1
                if leaked := _leaks(_text(resp), markers):
                    problems.append(f"{method} {url}: shows {leaked}")
                if page.kind in (OBJECT, BROKER_ONLY) and resp.status_code not in (403, 404, 405):
                    problems.append(f"{method} {url} (broker A's {page.pk}) -> {resp.status_code}")
                if page.kind in (REGULATOR, OVERSIGHT) and resp.status_code not in (403, 405):
                    problems.append(f"{method} {url} (regulator's) -> {resp.status_code}")
                if resp.status_code >= 500:
                    problems.append(f"{method} {url} -> {resp.status_code}")
            # B's own object in the path, A's ids in the form: must not link B's records to A's
            if page.kind in (OBJECT, BROKER_ONLY):
                for b_url in _urls(route, page, w.ob):
                    client.post(b_url, _page_post(w.oa))
        for method, url, resp in _other_methods(client, route, page, w.oa):
            if resp.status_code not in (403, 404, 405):
                problems.append(f"{method} {url} -> {resp.status_code}")
    assert not problems, "\n".join(problems)
    assert _state_of(w.a.pk) == before, "broker A's data changed"
    assert not _cross_links(), _cross_links()
    assert seen > 150


@pytest.mark.parametrize("who", B_USERS)
def test_api_broker_b_reaches_nothing_of_broker_a(iso, who):
    w = iso
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(getattr(w, who))}")
    before = _state_of(w.a.pk)
    markers = _markers(w)
    problems = []
    for method, path in API_OPS:
        kind = API[(method, path)]
        resp = _api_call(client, method, path, w.oa, w.oa)
        text = _text(resp)
        if leaked := _leaks(text, markers):
            problems.append(f"{method} {path}: shows {leaked}")
        if kind == OBJECT and resp.status_code not in (403, 404):
            problems.append(f"{method} {path} (broker A's) -> {resp.status_code}")
        if kind == REGULATOR and resp.status_code != 403:
            problems.append(f"{method} {path} (regulator's) -> {resp.status_code}")
        if kind == SIGNED and resp.status_code != 401:
            problems.append(f"{method} {path} (the gateway's, unsigned) -> {resp.status_code}")
        if kind == CREATE and "broker_id" in (_api_body(method, path, w.oa) or ("", {}))[1]:
            if resp.status_code not in (403, 404):
                problems.append(f"{method} {path} in broker A -> {resp.status_code}")
        if kind in (LIST, PUBLIC) and resp.status_code != 200:
            problems.append(f"{method} {path} -> {resp.status_code}")
        if kind == LIST and resp["Content-Type"].startswith("application/json"):
            if w.a.pk in _broker_ids(resp.json()):
                problems.append(f"{method} {path} lists broker A's records")
        if kind == LIST and method == "get" and "broker_id" in text:
            filtered = client.get(f"{path}?broker_id={w.a.pk}")
            if filtered.status_code != 200 or w.a.pk in _broker_ids(filtered.json()):
                problems.append(f"{path}?broker_id=A -> {filtered.status_code} {_text(filtered)[:200]}")
        # B's own object in the path, A's ids in the body: refused
        if kind == OBJECT and method != "get" and _api_body(method, path, w.oa) != _api_body(method, path, w.ob):
            resp = _api_call(client, method, path, w.ob, w.oa)
            if resp.status_code < 400 or resp.status_code >= 500:
                problems.append(f"{method} {path} (B's, naming A's objects in the body) -> {resp.status_code}")
    assert not problems, "\n".join(problems)
    assert _state_of(w.a.pk) == before, "broker A's data changed"
    assert not _cross_links(), _cross_links()


def test_matrix_reaches_real_objects(iso):
    """The control: the same URLs with broker B's own objects do reach them (so a 404 above is isolation,
    not a malformed URL)."""
    w = iso
    client = login_client(Client(), w.officer_b)
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer_b)}")
    problems = []
    for route in PAGE_ROUTES:
        page = PAGES[route]
        if page.kind not in (OBJECT, BROKER_ONLY):
            continue
        for url in _urls(route, page, w.ob):
            if url.endswith("/pdf/"):
                continue  # the HTML and XLSX reports prove the route; the PDF takes seconds
            got = client.get(url).status_code
            if got == 405:
                got = client.post(url, _page_post(w.ob)).status_code
                ok = got in (200, 302, 400, 403)  # found, then refused by role (the officer signs nothing off)
            else:
                ok = got == 200
            if not ok:
                problems.append(f"{url} -> {got}")
    for method, path in API_OPS:
        if API[(method, path)] == OBJECT:
            resp = _api_call(api_client, method, path, w.ob, w.ob)
            if resp.status_code not in (200, 201, 400, 403):
                problems.append(f"{method} {_api_url(path, w.ob)} -> {resp.status_code}: {_text(resp)[:200]}")
        if API[(method, path)] == SIGNED:  # signed with B's secret, as B's gateway calls it
            from ccinspect.notification import contract

            body = json.dumps(_api_body(method, path, w.ob)[1]).encode()
            resp = Client().post(_api_url(path, w.ob), body, content_type="application/json",
                                 headers={contract.SIGNATURE_HEADER: contract.sign(w.ob.secret, body)})
            if resp.status_code != 200:
                problems.append(f"{method} {_api_url(path, w.ob)} signed -> {resp.status_code}: {_text(resp)[:200]}")
    assert not problems, "\n".join(problems)


# ---- the regulator ----------------------------------------------------------------------------------------

def test_regulator_reads_everything_and_changes_nothing(iso):
    w = iso
    client = login_client(Client(), w.regulator)
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.regulator)}")
    before = _whole_db()
    problems, posts = [], 0
    for route in PAGE_ROUTES:
        page = PAGES[route]
        if page.kind in (NOT_FOUND, OWN_ACCOUNT, PUBLIC):
            continue  # its own password, MFA, tokens and session are the regulator's to change
        for url in _urls(route, page, w.oa):
            if not url.endswith("/pdf/"):
                got = client.get(f"{url}?broker={w.a.pk}").status_code
                if got >= 500 or (page.kind in (OBJECT, LIST, REGULATOR, OVERSIGHT) and got not in (200, 405)):
                    problems.append(f"GET {url} -> {got}")
                if page.kind == BROKER_ONLY and got not in (404, 405):  # customers' data: counts only
                    problems.append(f"GET {url} (a broker's customer data) -> {got}")
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                resp = client.post(url, _page_post(w.oa, reset=True), **headers)
                posts += 1
                if 200 <= resp.status_code < 300:
                    problems.append(f"POST {url} -> {resp.status_code}")
        for method, url, resp in _other_methods(client, route, page, w.oa):
            posts += 1
            if 200 <= resp.status_code < 300:
                problems.append(f"{method} {url} -> {resp.status_code}")
    for method, path in API_OPS:
        resp = _api_call(api_client, method, path, w.oa, w.oa)
        if method == "get" and API[(method, path)] != ORG_ADMIN and resp.status_code != 200:
            problems.append(f"GET {path} -> {resp.status_code}")
        if method != "get":
            posts += 1
            if resp.status_code != (401 if API[(method, path)] == SIGNED else 403):
                problems.append(f"{method.upper()} {path} -> {resp.status_code}: {_text(resp)[:200]}")
    assert not problems, "\n".join(problems)
    assert _whole_db() == before, "the regulator changed something"
    assert posts > 100


# ---- the anonymous client ---------------------------------------------------------------------------------

def test_anonymous_reaches_only_sign_in_and_the_public_catalog(iso):
    w = iso
    client = Client()
    before = _whole_db()
    problems = []
    for route in PAGE_ROUTES:
        page = PAGES[route]
        tries = [(m, url, client.get(url) if m == "GET" else client.post(url, _page_post(w.oa)))
                 for url in _urls(route, page, w.oa) for m in ("GET", "POST")]
        for method, url, resp in tries + _other_methods(client, route, page, w.oa):
            where = resp.get("Location", "")
            if page.kind == PUBLIC:
                ok = resp.status_code < 400 or resp.status_code == 405
                ok = ok and not where.startswith("/accounts/login/?")
            elif page.kind == ALIAS:
                ok = resp.status_code == 302 and where == "/dashboard/"
            elif page.kind == NOT_FOUND:
                ok = resp.status_code in (404, 405)
            elif route == "api/openapi.json":
                ok = resp.status_code in (401, 405)
            else:
                ok = resp.status_code == 302 and where.startswith("/accounts/login/?next=")
            if not ok:
                problems.append(f"{method} {url} -> {resp.status_code} {where}")
    for method, path in API_OPS:
        resp = _api_call(client, method, path, w.oa, w.oa)
        want = 200 if API[(method, path)] == PUBLIC else 401
        if resp.status_code != want:
            problems.append(f"{method.upper()} {path} -> {resp.status_code}, want {want}")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").content == b"ok"
    assert client.get("/static/ccinspect/app.css").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})["Location"] == "/dashboard/"
    catalog = client.get("/api/catalog/requirements").json()
    assert len(catalog) > 50 and {"ref_id", "chapter"} <= set(catalog[0])
    assert client.get(f"/api/catalog/requirements/{catalog[0]['ref_id']}").status_code == 200
    assert client.get("/api/catalog/requirements/CC-00000.9").status_code == 404
    assert not problems, "\n".join(problems)
    assert _whole_db() == before


def test_api_docs_and_schema_need_a_session_or_token(iso):
    w = iso
    assert Client().get("/api/openapi.json").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer cci_wrong").get("/api/openapi.json").status_code == 401
    token = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer_b)}")
    assert "/api/inspections" in token.get("/api/openapi.json").json()["paths"]
    session = login_client(Client(), w.officer_b)
    assert session.get("/api/docs").status_code == 200
    assert session.get("/api/openapi.json").status_code == 200
    resp = Client().get("/api/docs")
    assert resp.status_code == 302 and resp["Location"] == "/accounts/login/?next=/api/docs"
