"""The REST API (django-ninja): token authentication (`Authorization: Bearer cci_…`), the same permissions
and services as the pages. OpenAPI at /api/docs."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from ninja import File, Form, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from ccinspect.core.dates import DateParseError, parse_date
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import ApiToken
from ccinspect.web.accounts.passwords import token_refusal
from ccinspect.web.accounts.services import LifecycleError
from ccinspect.web.brokers import services as brokers_svc
from ccinspect.web.brokers.services import BrokerError
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.evidence import UploadError, path_of, read_upload
from ccinspect.web.inspections.models import ChecklistItem, Evidence, Finding, Inspection
from ccinspect.web.inspections.permissions import (
    brokers_for,
    evidence_for,
    findings_for,
    get_or_404,
    inspections_for,
)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        tok = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.digest(token)).first()
        if tok is None or not tok.user.is_active:
            return None
        refused = token_refusal(tok.user)
        if refused:
            # The same gate as PolicyMiddleware: a token is no way around a forced password change or MFA.
            raise AuthenticationError(401, f"Token refused: {refused}")
        ApiToken.objects.filter(pk=tok.pk).update(last_used_at=timezone.now())
        request.user = tok.user
        audit.set_actor(tok.user)  # reset by ActorMiddleware's finally at the end of the request
        return tok.user


def signed_in(view):
    """The docs page and the schema: read-only, for a signed-in user or a valid token (anonymous users reach
    only the sign-in page and the public catalog)."""
    safe = require_safe(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            authenticated = request.user.is_authenticated or TokenAuth()(request) is not None
        except AuthenticationError:
            authenticated = False
        if authenticated:
            return safe(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return redirect_to_login(request.get_full_path())

    return wrapper


_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_INVALID = {"type": "object", "required": ["detail"],  # django-ninja's validation errors
            "properties": {"detail": {"type": "array", "items": {"type": "object"}}}}
_ERRORS = {"400": ("Bad input: the message says what and where", _DETAIL),
           "401": ("No valid token", _DETAIL),
           "403": ("Your role may not do this", _DETAIL),
           "404": ("No such object in your broker(s)", _DETAIL),
           "422": ("A parameter or the body does not have the documented shape", _INVALID)}


class CcinspectAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """The schema documents the error responses too (docs/web.md, Errors), so a client (and
        tests/web/test_api_fuzz.py) can check every response against it, not only the successes."""
        schema = super().get_openapi_schema(**kwargs)
        for ops in schema["paths"].values():
            for op in ops.values():
                codes = ["400", "403", "404", "422"] + (["401"] if op.get("security") else [])
                # one key per status: ninja keys declared responses by int, JSON by text (a key twice is a
                # document Swagger UI refuses); a fresh dict, so no shared one is changed
                responses = {str(k): v for k, v in op["responses"].items()}
                for code in sorted(codes):
                    text, body = _ERRORS[code]
                    responses.setdefault(code, {"description": text,
                                                "content": {"application/json": {"schema": body}}})
                op["responses"] = responses
        return schema


api = CcinspectAPI(title="ccinspect API", version="1", auth=TokenAuth(), urls_namespace="api",
                   docs_decorator=signed_in,
                   description="建立證券商資通安全檢查機制 — inspections, checklist items, evidence, findings; "
                               "catalog (public, no token) and applicability read-only.")


@api.exception_handler(svc.ServiceError)
def _service_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(UploadError)
def _upload_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(BrokerError)
def _broker_error(request, exc):
    return api.create_response(request, {"detail": str(exc), "errors": exc.errors}, status=400)


@api.exception_handler(LifecycleError)
def _lifecycle_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


# ---- schemas --------------------------------------------------------------------------------------------

class BrokerOut(Schema):
    id: int
    name: str
    profile: dict


class InspectionOut(Schema):
    id: int
    broker_id: int
    occurrence_id: str
    title: str
    title_en: str
    cadence: str
    period_start: dt.date
    period_end: dt.date
    due: dt.date
    status: str
    tier: int
    framework_version: str


class ItemOut(Schema):
    id: int
    inspection_id: int
    ref_id: str
    chapter: str
    assessable: bool
    text: str
    text_en: str
    focus_points: list
    result: str
    na_reason: str
    notes: str
    automated_status: str


class ItemIn(Schema):
    result: str
    notes: str | None = None
    na_reason: str = ""


class EvidenceOut(Schema):
    id: int
    kind: str
    original_name: str
    sha256: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: dt.datetime
    item_id: int | None
    finding_id: int | None
    supersedes_id: int | None
    note: str


class FindingOut(Schema):
    id: int
    broker_id: int
    source: str  # self_inspection, or regulator (then no inspection or item)
    inspection_id: int | None
    item_id: int | None
    ref_id: str
    chapter: str
    title: str
    severity: str
    deduction_points: float
    owner_id: int | None
    due_date: dt.date
    remediation_plan: str
    status: str
    overdue: bool


class FindingIn(Schema):
    title: str
    severity: str
    due_date: dt.date
    description: str = ""
    owner_id: int | None = None
    remediation_plan: str = ""


class FindingUpdate(Schema):
    remediation_plan: str | None = None
    owner_id: int | None = None
    due_date: dt.date | None = None
    severity: str | None = None


class TransitionIn(Schema):
    to: str
    note: str = ""


class CreateInspectionIn(Schema):
    broker_id: int
    occurrence_id: str


class ResultsIn(Schema):
    """Either `results` (docs/web.md), or the login scan's alerts.json fields (`alerts`, with run.json's
    `inputs` and `review_ref_ids` if at hand)."""
    source: str = "api"
    results: list[dict[str, Any]] | None = None
    alerts: list[dict[str, Any]] | None = None
    inputs: list[dict[str, Any]] = []
    review_ref_ids: list[str] = []
    rules: dict[str, Any] = {}


class NoteIn(Schema):
    note: str = ""


def _insp(i: Inspection) -> dict:
    return {"id": i.pk, "broker_id": i.organisation_id, "occurrence_id": i.occurrence_id, "title": i.title,
            "title_en": i.title_en, "cadence": i.cadence, "period_start": i.period_start,
            "period_end": i.period_end, "due": i.due, "status": i.status, "tier": i.tier,
            "framework_version": i.framework_version}


def _ev(e: Evidence) -> dict:
    return {"id": e.pk, "kind": e.kind, "original_name": e.original_name, "sha256": e.sha256, "size": e.size,
            "content_type": e.content_type, "uploaded_by": e.uploaded_by.username, "uploaded_at": e.uploaded_at,
            "item_id": e.item_id, "finding_id": e.finding_id, "supersedes_id": e.supersedes_id, "note": e.note}


def _finding(f: Finding) -> dict:
    return {"id": f.pk, "broker_id": f.organisation_id, "source": f.source, "inspection_id": f.inspection_id,
            "item_id": f.item_id, "ref_id": f.ref_id, "chapter": f.chapter, "title": f.title, "severity": f.severity,
            "deduction_points": float(f.deduction_points), "owner_id": f.owner_id, "due_date": f.due_date,
            "remediation_plan": f.remediation_plan, "status": f.status, "overdue": f.is_overdue}


def _item(request, item_id: int) -> ChecklistItem:
    return get_or_404(ChecklistItem.objects.select_related("inspection").filter(
        inspection__in=inspections_for(request.auth)), item_id)


# ---- catalog and applicability (read-only) --------------------------------------------------------------
# The catalog is the published regulation text: anonymous, like the sign-in page. Nothing else is.

@api.get("/catalog/requirements", tags=["catalog"], auth=None)
def catalog_requirements(request, chapter: str | None = None):
    fv = svc.catalog().version("mechanism")
    return [r.to_dict() for r in fv.requirements if chapter is None or r.chapter == chapter]


@api.get("/catalog/requirements/{ref_id}", tags=["catalog"], auth=None)
def catalog_requirement(request, ref_id: str):
    fv = svc.catalog().version("mechanism")
    for r in fv.requirements:
        if r.ref_id == ref_id:
            return r.to_dict() | {"focus_points": [
                {"text": f.text, "text_en": f.text_en} for f in svc.catalog().focus_points_for(ref_id)]}
    from django.http import Http404

    raise Http404


@api.get("/brokers", response=list[BrokerOut], tags=["brokers"])
def brokers(request):
    return [{"id": b.pk, "name": b.name, "profile": b.profile} for b in brokers_for(request.auth)]


class BrokerIn(Schema):
    name: str
    profile: dict[str, Any]  # BrokerProfile's fields (GET /api/brokers/{id}/record shows them)
    effective_from: str | None = None  # YYYY-MM-DD or ROC; default: capital_as_of for a new broker, else today
    note: str = ""


class RetireIn(Schema):
    reason: str


def _site_admin(request) -> None:
    if not brokers_svc.may_manage_brokers(request.auth):
        raise PermissionDenied("only a site administrator manages brokers")


@api.post("/brokers", tags=["brokers"], response={201: dict})
def broker_create(request, body: BrokerIn):
    """Onboard a broker: its profile is validated by BrokerProfile (errors by field, zh-TW and English)."""
    _site_admin(request)
    org = brokers_svc.save_broker(request.auth, name=body.name, profile=body.profile,
                                  effective_from=body.effective_from, note=body.note)
    return Status(201, brokers_svc.summary(org))


@api.get("/brokers/{broker_id}/record", tags=["brokers"])
def broker_record(request, broker_id: int, as_of: str | None = None):
    """The profile in force on a date (today by default), its tier and every dated version."""
    org = get_or_404(brokers_for(request.auth), broker_id)
    try:
        day = parse_date(as_of, field="as_of") if as_of else None
    except DateParseError as exc:
        raise svc.ServiceError(str(exc)) from None
    return brokers_svc.summary(org, day)


@api.put("/brokers/{broker_id}", tags=["brokers"])
def broker_update(request, broker_id: int, body: BrokerIn):
    """A new profile version in force from `effective_from` (the same date replaces that version)."""
    _site_admin(request)
    org = get_or_404(brokers_for(request.auth), broker_id)
    org = brokers_svc.save_broker(request.auth, org=org, name=body.name, profile=body.profile,
                                  effective_from=body.effective_from, note=body.note)
    return brokers_svc.summary(org)


@api.post("/brokers/{broker_id}/retire", tags=["brokers"])
def broker_retire(request, broker_id: int, body: RetireIn):
    _site_admin(request)
    org = brokers_svc.retire_broker(request.auth, get_or_404(brokers_for(request.auth), broker_id), body.reason)
    return brokers_svc.summary(org)


@api.get("/brokers/{broker_id}/applicability", tags=["brokers"])
def broker_applicability(request, broker_id: int, as_of: str | None = None):
    org = get_or_404(brokers_for(request.auth), broker_id)
    try:
        day = parse_date(as_of, field="as_of") if as_of else timezone.localdate()
    except DateParseError as exc:
        raise svc.ServiceError(str(exc)) from None
    return svc.applicability(org, day).to_dict()


# ---- inspections ----------------------------------------------------------------------------------------

PAGE_SIZE, PAGE_MAX = 100, 1000


def _window(request, response: HttpResponse, qs, limit: int, offset: int) -> list:
    """One window of a long list (?limit=, ?offset=): the total in X-Total-Count, the next and previous
    windows in a Link header (RFC 8288), so a client can walk them all."""
    total = qs.count()
    rows = list(qs[offset:offset + limit])
    response["X-Total-Count"] = str(total)
    params = request.GET.copy()
    links = []
    for rel, at in (("next", offset + limit), ("prev", max(0, offset - limit))):
        if (rel == "next" and at < total) or (rel == "prev" and offset > 0):
            params["offset"], params["limit"] = str(at), str(limit)
            links.append(f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="{rel}"')
    if links:
        response["Link"] = ", ".join(links)
    return rows


Limit = Query(PAGE_SIZE, ge=1, le=PAGE_MAX, description=f"rows per window (default {PAGE_SIZE}, at most {PAGE_MAX})")
# bounded: a larger OFFSET overflows the database's integer (a 500 found by test_api_fuzz.py)
OFFSET_MAX = 2**31 - 1
Offset = Query(0, ge=0, le=OFFSET_MAX, description="rows to skip (X-Total-Count has the total, Link the next window)")


@api.get("/inspections", response=list[InspectionOut], tags=["inspections"])
def inspections(request, response: HttpResponse, broker_id: int | None = None, limit: int = Limit,
                offset: int = Offset):
    qs = inspections_for(request.auth).order_by("-period_end", "unit", "id")
    if broker_id is not None:
        qs = qs.filter(organisation_id=broker_id)
    return [_insp(i) for i in _window(request, response, qs, limit, offset)]


@api.post("/inspections", response={201: InspectionOut}, tags=["inspections"])
def inspection_create(request, body: CreateInspectionIn):
    org = get_or_404(brokers_for(request.auth), body.broker_id)
    return Status(201, _insp(svc.create_inspection(request.auth, org, body.occurrence_id)))


@api.get("/inspections/{inspection_id}", response=InspectionOut, tags=["inspections"])
def inspection(request, inspection_id: int):
    return _insp(get_or_404(inspections_for(request.auth), inspection_id))


@api.get("/inspections/{inspection_id}/items", response=list[ItemOut], tags=["inspections"])
def inspection_items(request, inspection_id: int):
    return list(get_or_404(inspections_for(request.auth), inspection_id).items.all())


@api.post("/inspections/{inspection_id}/submit", response=InspectionOut, tags=["inspections"])
def inspection_submit(request, inspection_id: int):
    return _insp(svc.submit(request.auth, get_or_404(inspections_for(request.auth), inspection_id)))


@api.post("/inspections/{inspection_id}/signoff", response=InspectionOut, tags=["inspections"])
def inspection_signoff(request, inspection_id: int, body: NoteIn):
    return _insp(svc.sign_off(request.auth, get_or_404(inspections_for(request.auth), inspection_id), body.note))


@api.post("/inspections/{inspection_id}/results", tags=["evidence"])
def inspection_results(request, inspection_id: int, body: ResultsIn):
    """Attach automated check results (see docs/web.md for the JSON shape)."""
    insp = get_or_404(inspections_for(request.auth), inspection_id)
    if body.results is None and body.alerts is None:
        raise svc.ServiceError('give "results", or a login scan\'s "alerts"')
    data = body.results if body.results is not None else {
        "tool": svc.LOGIN_SCAN, "alerts": body.alerts, "inputs": body.inputs, "review_ref_ids": body.review_ref_ids,
        "rules": body.rules}
    return svc.import_results(request.auth, insp, data, source=body.source)


@api.get("/inspections/{inspection_id}/evidence", response=list[EvidenceOut], tags=["evidence"])
def inspection_evidence(request, response: HttpResponse, inspection_id: int, limit: int = Limit,
                        offset: int = Offset):
    insp = get_or_404(inspections_for(request.auth), inspection_id)
    qs = insp.evidence.select_related("uploaded_by").order_by("-uploaded_at", "-id")
    return [_ev(e) for e in _window(request, response, qs, limit, offset)]


@api.get("/items/{item_id}", response=ItemOut, tags=["inspections"])
def item(request, item_id: int):
    return _item(request, item_id)


@api.patch("/items/{item_id}", response=ItemOut, tags=["inspections"])
def item_update(request, item_id: int, body: ItemIn):
    return svc.set_item_result(request.auth, _item(request, item_id), body.result, notes=body.notes,
                               na_reason=body.na_reason)


@api.post("/items/{item_id}/evidence", response={201: EvidenceOut}, tags=["evidence"])
def item_evidence(request, item_id: int, file: File[UploadedFile], note: Form[str] = "",
                  supersedes_id: Form[int | None] = None):
    it = _item(request, item_id)
    sup = get_or_404(evidence_for(request.auth), supersedes_id) if supersedes_id else None
    e = svc.add_evidence(request.auth, it, name=file.name, data=read_upload(file), note=note, supersedes=sup)
    return Status(201, _ev(e))


@api.get("/evidence/{evidence_id}", response=EvidenceOut, tags=["evidence"])
def evidence(request, evidence_id: int):
    return _ev(get_or_404(evidence_for(request.auth), evidence_id))


@api.get("/evidence/{evidence_id}/download", tags=["evidence"])
def evidence_download(request, evidence_id: int):
    e = get_or_404(evidence_for(request.auth), evidence_id)
    resp = FileResponse(open(path_of(e), "rb"), as_attachment=True, filename=e.original_name,
                        content_type=e.content_type)
    resp.audit_object, resp.audit_organisation_id = e, e.organisation_id  # audited by DownloadAuditMiddleware
    return resp


# ---- findings -------------------------------------------------------------------------------------------

@api.get("/findings", response=list[FindingOut], tags=["findings"])
def findings(request, response: HttpResponse, status: str | None = None, limit: int = Limit, offset: int = Offset):
    qs = findings_for(request.auth).order_by("status", "due_date", "id")
    if status:
        qs = qs.filter(status=status)
    return [_finding(f) for f in _window(request, response, qs, limit, offset)]


@api.post("/items/{item_id}/findings", response={201: FindingOut}, tags=["findings"])
def finding_create(request, item_id: int, body: FindingIn):
    f = svc.raise_finding(request.auth, _item(request, item_id), title=body.title, severity=body.severity,
                          due_date=body.due_date, description=body.description, owner_id=body.owner_id,
                          remediation_plan=body.remediation_plan)
    return Status(201, _finding(f))


@api.get("/findings/{finding_id}", response=FindingOut, tags=["findings"])
def finding(request, finding_id: int):
    return _finding(get_or_404(findings_for(request.auth), finding_id))


@api.patch("/findings/{finding_id}", response=FindingOut, tags=["findings"])
def finding_update(request, finding_id: int, body: FindingUpdate):
    f = get_or_404(findings_for(request.auth), finding_id)
    return _finding(svc.update_finding(request.auth, f, remediation_plan=body.remediation_plan,
                                       owner_id=body.owner_id, due_date=body.due_date, severity=body.severity))


@api.post("/findings/{finding_id}/transition", response=FindingOut, tags=["findings"])
def finding_transition(request, finding_id: int, body: TransitionIn):
    f = get_or_404(findings_for(request.auth), finding_id)
    return _finding(svc.transition(request.auth, f, body.to, body.note))


@api.post("/findings/{finding_id}/retest", response={201: EvidenceOut}, tags=["findings"])
def finding_retest(request, finding_id: int, file: File[UploadedFile], note: Form[str] = ""):
    f = get_or_404(findings_for(request.auth), finding_id)
    return Status(201, _ev(svc.add_retest_evidence(request.auth, f, name=file.name, data=read_upload(file), note=note)))
