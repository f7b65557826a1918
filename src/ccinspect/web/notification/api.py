"""/api/notification: the signed callback the broker's gateway or app calls with the customer's answer
(no API token: the broker's signing secret authenticates it), and the officers' read-only lists.

The contract is in docs/notification.md."""

from __future__ import annotations

import datetime as dt
import json

from ninja import Router, Schema, Status

from ccinspect.notification import contract
from ccinspect.web.accounts.models import Organisation

from . import services as svc
from .models import Case, Gateway
from .permissions import cases_for

router = Router(tags=["notification"])


class Detail(Schema):
    detail: str


class AnswerOut(Schema):
    status: str
    notification: str
    answer: str
    case_opened: bool


class LockRequestOut(Schema):
    case: int
    account: str
    requested_at: dt.datetime
    detected_at: dt.datetime


_REFUSED = {"unknown": 404, "expired": 410, "answered": 409}


@router.post("/{broker_id}/answers", auth=None,
             response={200: AnswerOut, 400: Detail, 401: Detail, 404: Detail, 409: Detail, 410: Detail},
             summary="The customer's answer (signed by the broker's gateway)")
def answer(request, broker_id: int):
    """Body `{"token": "…", "answer": "me" | "not_me"}`, header `X-CCInspect-Signature: t=…,v1=…`
    (HMAC-SHA256 of `t.` + body with the broker's signing secret). 401: signature missing, wrong or more than
    5 minutes old; 409: the same signed request again (replay) or the token already used; 410: token
    expired; 404: no such token for this broker."""
    org = Organisation.objects.filter(pk=broker_id, kind=Organisation.BROKER).first()
    gw = Gateway.objects.filter(organisation=org).first() if org else None
    header = request.headers.get(contract.SIGNATURE_HEADER)
    if gw is None:
        return Status(401, {"detail": "signature not accepted"})
    try:
        contract.verify(gw.secret, header, request.body)
    except contract.SignatureError as exc:
        return Status(401, {"detail": f"signature not accepted: {exc}"})
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return Status(400, {"detail": "the body is not JSON"})
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or body.get("answer") not in contract.ANSWERS:
        return Status(400, {"detail": 'expected {"token": "…", "answer": "me" | "not_me"}'})
    if not svc.remember_signature(header):
        return Status(409, {"detail": "this signed request was already received (replay)"})
    try:
        n = svc.answer(body["token"], body["answer"], via="api", broker=org)
    except svc.AnswerRefused as exc:
        return Status(_REFUSED[exc.reason], {"detail": str(exc)})
    return {"status": "recorded", "notification": str(n.public_id), "answer": n.answer,
            "case_opened": n.answer == "not_me"}


@router.get("/lock-requests", response=list[LockRequestOut],
            summary="Accounts a customer disowned a login of, awaiting the broker's lock-and-reset")
def lock_requests(request):
    """The broker's own cases only (its security officer or administrator); the regulator gets none."""
    qs = cases_for(request.auth).filter(lock_reset_done_at__isnull=True).exclude(organisation_id=None)
    if not request.auth.can_prepare:
        qs = Case.objects.none()
    return [{"case": c.pk, "account": c.account, "requested_at": c.lock_reset_requested_at,
             "detected_at": c.detected_at} for c in qs]
