"""Customer notification as functions: request, dispatch (in the worker), answer, follow-up, cases and the
figures point 16 of an inspection takes. Pages, the callback API, the CLI and the login-monitoring runs call
these; each checks permissions and writes in one transaction, so nothing is half-written."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from ccinspect.notification import contract, delivery
from ccinspect.notification import message as msg
from ccinspect.web.accounts import audit
from ccinspect.web.inspections.permissions import require_preparer
from ccinspect.web.inspections.services import ServiceError

from .models import Attempt, Case, Gateway, MessageTemplate, Notification, SeenSignature

BATCH = 200  # notifications per dispatch task
THREADS = 8  # concurrent requests to one gateway from one task


class AnswerRefused(ServiceError):
    """An answer that cannot be taken; `reason` is unknown, expired or answered (the API's 404/410/409)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


# ---- the broker's settings and templates ---------------------------------------------------------------

def gateway_for(org) -> Gateway:
    gw = Gateway.objects.filter(organisation=org).first()
    if gw is None:
        raise ServiceError(f"{org.name} has no notification gateway configured / 尚未設定通知閘道")
    return gw


GATEWAY_FIELDS = ("channel", "webhook_url", "smtp_host", "smtp_port", "smtp_starttls", "smtp_sender",
                  "address_lookup_url", "language", "token_hours", "follow_up_hours", "max_attempts",
                  "backoff_seconds", "timeout_seconds")


@transaction.atomic
def save_gateway(user, org, data: dict) -> tuple[Gateway, str | None]:
    """Create or change the gateway settings. Returns the gateway and, when a secret was made, the secret
    (shown once; the broker's developers put it in the gateway)."""
    require_preparer(user, org.pk)
    gw = Gateway.objects.select_for_update().filter(organisation=org).first() or Gateway(organisation=org)
    for f in GATEWAY_FIELDS:
        if f in data:
            field = Gateway._meta.get_field(f)
            v = data[f]
            if field.get_internal_type() == "BooleanField":
                v = v in (True, "1", "on", "true", "yes")
            elif field.get_internal_type().endswith("IntegerField"):
                try:
                    v = int(str(v).strip())
                except ValueError:
                    raise ServiceError(f"{field.verbose_name}: {v!r} is not a whole number") from None
            setattr(gw, f, (v.strip() if isinstance(v, str) else v))
    if gw.channel not in dict(Gateway.CHANNELS):
        raise ServiceError(f"channel {gw.channel!r} is not webhook or smtp")
    if gw.channel == Gateway.WEBHOOK:
        try:
            delivery.Webhook(gw.webhook_url, "x")
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
    else:
        if not gw.smtp_host or "@" not in gw.smtp_sender:
            raise ServiceError("e-mail needs the relay host and a sender address / 需要郵件中繼主機及寄件者")
        try:
            delivery._connection(gw.address_lookup_url, 1)
        except ValueError:
            raise ServiceError("e-mail needs the address lookup URL (http:// or https://) that gives a customer's "
                               "address / 需要查詢客戶電子郵件之回呼網址") from None
    if not 1 <= gw.max_attempts <= 20:
        raise ServiceError("attempts per message: between 1 and 20")
    if gw.token_hours < 1 or gw.follow_up_hours < 1:
        raise ServiceError("the answer period and the follow-up period are at least one hour")
    if gw.follow_up_hours >= gw.token_hours:
        raise ServiceError("follow up before the confirmation expires: the follow-up period must be shorter "
                           "than the answer period / 追蹤時間須短於確認期限")
    new_secret = None
    if not gw.secret or data.get("rotate_secret"):
        new_secret = gw.secret = "whsec_" + secrets.token_urlsafe(32)
    gw.updated_at = timezone.now()
    with audit.acting_as(user):
        gw.save()
    return gw, new_secret


def template_for(org, kind: str, language: str) -> tuple[str, str, bool, int | None]:
    """(subject, body, allow_links, template id): the broker's own, else the shipped default."""
    t = MessageTemplate.objects.filter(organisation=org, kind=kind, language=language).first()
    if t is not None:
        return t.subject, t.body, t.allow_links, t.pk
    subject, body = msg.DEFAULTS[(language, kind)]
    return subject, body, False, None


@transaction.atomic
def save_template(user, org, kind: str, language: str, subject: str, body: str, allow_links: bool = False):
    require_preparer(user, org.pk)
    if kind not in dict(MessageTemplate.KINDS) or language not in msg.LANGUAGES:
        raise ServiceError(f"no template kind {kind!r} in language {language!r}")
    try:
        msg.check(subject, body, allow_links=allow_links)
    except msg.TemplateError as exc:
        raise ServiceError(str(exc)) from None
    t = MessageTemplate.objects.filter(organisation=org, kind=kind, language=language).first() or \
        MessageTemplate(organisation=org, kind=kind, language=language)
    t.subject, t.body, t.allow_links = subject.strip(), body.strip(), bool(allow_links)
    t.updated_by, t.updated_at = user, timezone.now()
    with audit.acting_as(user):
        t.save()
    return t


SAMPLE = {"account": "A123456789", "kind": "account_takeover", "place": "JP",
          "login_at": dt.datetime(2026, 5, 2, 9, 41, tzinfo=dt.timezone(dt.timedelta(hours=8)))}


def values_for(account: str, kind: str, reason: str, login_at, place: str, expires_at, language: str) -> dict:
    t = timezone.localtime(login_at).strftime("%Y-%m-%d %H:%M") if login_at else "-"
    e = timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M") if expires_at else "-"
    return {"account": account, "account_masked": msg.mask(account), "time": t, "place": place or "-",
            "reason": msg.reason_text(kind, reason, language), "expires": e}


def preview(subject: str, body: str, language: str) -> msg.Message:
    """The template filled with sample values; the page shows the result as text (escaped)."""
    s = SAMPLE
    return msg.render(subject, body, values_for(s["account"], s["kind"], "", s["login_at"], s["place"],
                                                s["login_at"] + dt.timedelta(hours=72), language))


# ---- requesting notifications -------------------------------------------------------------------------

def _get(row, key, default=None):
    return row.get(key, default) if isinstance(row, dict) else getattr(row, key, default)


def rough_place(row) -> str:
    """A country when the row has one, else the network (/24, /48) of the first address: enough for the
    customer to recognise, not the full address."""
    country = _get(row, "country") or _get(row, "place")
    if country:
        return str(country)[:200]
    for ip in _get(row, "ips") or []:
        try:
            a = ipaddress.ip_address(str(ip).strip())
        except ValueError:
            continue
        return str(ipaddress.ip_network(f"{a}/{24 if a.version == 4 else 48}", strict=False))
    return ""


def _when(value, field: str, n: int):
    from ccinspect.web.incidents.services import parse_when

    try:
        return parse_when(value, field)
    except ServiceError as exc:
        raise ServiceError(f"notification {n}: {exc}") from None


def request_notifications(broker, rows, detected_at, *, user=None, source: str = "", language: str | None = None
                          ) -> dict:
    """Record one notification per row and queue their dispatch (the worker sends them).

    `rows`: the login scan's notifications ({"account", "kind", "reason", "ips", "first"}), or alert rows
    with the same attributes (and optionally "country"). `detected_at`: when the broker detected the logins;
    a case opened from an answer carries it over. A row already requested (same account, kind and login
    time) is skipped and counted, so importing the same scan twice sends nothing twice. Every row is
    checked before anything is written."""
    if user is not None:
        require_preparer(user, broker.pk)
    gw = gateway_for(broker)
    detected_at = _when(detected_at, "detected at", 0) or timezone.now()
    lang = language or gw.language
    now = timezone.now()
    prepared, seen = [], set()
    for n, row in enumerate(rows, 1):
        account = str(_get(row, "account") or "").strip()
        if not account:
            raise ServiceError(f"notification {n}: no account / 第 {n} 筆通知缺少帳號")
        if len(account) > 100:
            raise ServiceError(f"notification {n}: account longer than 100 characters")
        kind = str(_get(row, "kind") or "login")[:40]
        login_at = _when(_get(row, "first") or _get(row, "login_at"), "first", n)
        key = hashlib.sha256(f"{account}\x1f{kind}\x1f{login_at.isoformat() if login_at else ''}".encode()).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        prepared.append(dict(account=account, kind=kind, reason=str(_get(row, "reason") or "")[:2000],
                             login_at=login_at, place=rough_place(row), dedupe_key=key))
    existing = set(Notification.objects.filter(organisation=broker, dedupe_key__in=[p["dedupe_key"] for p in prepared])
                   .values_list("dedupe_key", flat=True))
    created = []
    with transaction.atomic():
        for p in prepared:
            if p["dedupe_key"] in existing:
                continue
            n = Notification(organisation=broker, detected_at=detected_at, source=source[:300], language=lang,
                             nonce=secrets.token_hex(16), expires_at=now + dt.timedelta(hours=gw.token_hours),
                             next_attempt_at=now, requested_by=user, **p)
            n.set_token()
            created.append(n)
        created = Notification.objects.bulk_create(created, batch_size=500)
        if created:  # one entry for the request, naming every notification (no account ids: counts, ids)
            audit.record("create", model="notification.Notification", object_id=f"{len(created)} notifications",
                         object_repr=f"notifications requested ({source[:100]})", organisation_id=broker.pk,
                         actor=user, changes={"ids": [n.pk for n in created], "source": source[:300],
                                              "detected_at": detected_at.isoformat(), "kinds": dict(Counter(
                                                  n.kind for n in created))})
        _enqueue([n.pk for n in created])
    return {"requested": len(created), "already_requested": len(prepared) - len(created),
            "duplicates_in_input": sum(1 for _ in rows) - len(prepared) if isinstance(rows, list) else 0,
            "ids": [n.pk for n in created]}


def from_login_scan(user, broker, data: dict, *, source: str = "alerts.json") -> dict | None:
    """The notifications listed by a login scan's alerts.json (imported with `web import-results`);
    detection time: run.json's `finished` when given (`detected_at`), else now. None when there are none or
    the broker has no gateway yet (the import says so)."""
    rows = data.get("notifications") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        return None
    if not all(isinstance(r, dict) for r in rows):
        raise ServiceError("login scan: notifications must be a list of objects")
    if not Gateway.objects.filter(organisation=broker).exists():
        return {"requested": 0, "not_sent": len(rows),
                "reason": "no notification gateway configured / 尚未設定通知閘道"}
    return request_notifications(broker, rows, data.get("detected_at") or timezone.now(), user=user, source=source)


def _enqueue(ids: list[int], *, follow_up: bool = False, run_after=None) -> None:
    from . import tasks

    t = tasks.dispatch.using(run_after=run_after) if run_after else tasks.dispatch
    for i in range(0, len(ids), BATCH):
        t.enqueue(ids[i:i + BATCH], follow_up)


# ---- dispatch (runs in the worker) ----------------------------------------------------------------------

def build_request(n: Notification, *, follow_up: bool = False, templates: dict | None = None
                  ) -> contract.NotificationRequest:
    key = (n.organisation_id, "follow_up" if follow_up else "notification", n.language)
    if templates is None or key not in templates:
        t = template_for(n.organisation, key[1], key[2])
        if templates is None:
            templates = {}
        templates[key] = t
    subject, body, _links, tid = templates[key]
    m = msg.render(subject, body, values_for(n.account, n.kind, n.reason, n.login_at, n.place, n.expires_at,
                                            n.language))
    return contract.NotificationRequest(
        id=str(n.public_id), broker=str(n.organisation_id), account=n.account,
        reason=msg.reason_text(n.kind, n.reason, "en") if not n.reason else n.reason, kind=n.kind,
        login_at=timezone.localtime(n.login_at).isoformat() if n.login_at else "", place=n.place,
        token=n.token(), expires_at=timezone.localtime(n.expires_at).isoformat(),
        template={"id": tid, "kind": "follow_up" if follow_up else "notification", "language": n.language,
                  "subject": m.subject, "text": m.text},
        follow_up=follow_up)


def _send(gw: Gateway, hook, n: Notification, req: contract.NotificationRequest) -> delivery.Attempt:
    if gw.channel == Gateway.WEBHOOK:
        return hook.post(req.body(), delivery_id=req.id, event=req.payload()["type"])
    try:
        address = delivery.lookup_address(gw.address_lookup_url, gw.secret, n.account, timeout=gw.timeout_seconds)
    except (LookupError, OSError) as exc:
        return delivery.Attempt(False, None, f"address lookup: {exc}"[:300], 0)
    return delivery.send_email(gw.smtp_host, gw.smtp_port, gw.smtp_sender, address,
                               msg.Message(req.template["subject"], req.template["text"]),
                               starttls=gw.smtp_starttls, timeout=gw.timeout_seconds, msg_id=req.id)


def dispatch_batch(ids: list[int], *, follow_up: bool = False, now=None) -> dict:
    """Send the due notifications among `ids` (or their follow-ups), record each attempt, and queue the
    retries (with back-off) and the follow-ups. The requests run in threads; the records are written here."""
    now = now or timezone.now()
    qs = Notification.objects.filter(pk__in=ids).select_related("organisation")
    if follow_up:
        todo = [n for n in qs if not n.answer and n.status == Notification.SENT and n.followed_up_at is None
                and not n.expired]
    else:
        todo = [n for n in qs if n.status == Notification.QUEUED]
    if not todo:
        return {"sent": 0, "failed": 0, "retry": 0}
    prior = Counter(dict(((r["notification_id"]), r["c"]) for r in Attempt.objects.filter(
        notification__in=todo, follow_up=follow_up).values("notification_id").annotate(c=Count("id"))))
    gateways = {g.organisation_id: g for g in Gateway.objects.filter(organisation_id__in={n.organisation_id for n in todo})}
    hooks = {}
    for org_id, g in gateways.items():
        if g.channel == Gateway.WEBHOOK:
            hooks[org_id] = delivery.Webhook(g.webhook_url, g.secret, timeout=g.timeout_seconds)
    templates: dict = {}  # one query per broker, kind and language, not per notification
    requests = [(n, build_request(n, follow_up=follow_up, templates=templates)) for n in todo
                if n.organisation_id in gateways]

    def one(pair):
        n, req = pair
        gw = gateways[n.organisation_id]
        return _send(gw, hooks.get(n.organisation_id), n, req)

    with ThreadPoolExecutor(max_workers=min(THREADS, len(requests))) as pool:
        results = list(pool.map(one, requests))
    out = Counter()
    retry_at: dict[dt.datetime, list[int]] = {}
    follow_ups: dict[dt.datetime, list[int]] = {}
    attempts, sent, failed, retry = [], {}, [], {}
    done_at = timezone.now()
    for (n, _req), a in zip(requests, results, strict=True):
        gw = gateways[n.organisation_id]
        number = prior[n.pk] + 1
        attempts.append(Attempt(notification=n, number=number, follow_up=follow_up, channel=gw.channel,
                                at=done_at, ok=a.ok, status_code=a.status, error=a.error, elapsed_ms=a.elapsed_ms))
        if a.ok:
            out["sent"] += 1
            sent.setdefault(n.organisation_id, []).append(n.pk)
            if not follow_up:
                due = done_at + dt.timedelta(hours=gw.follow_up_hours)
                follow_ups.setdefault(due.replace(second=0, microsecond=0) + dt.timedelta(minutes=1), []).append(n.pk)
        elif a.retryable and number < gw.max_attempts:
            out["retry"] += 1
            when = now + dt.timedelta(seconds=delivery.backoff(number, base=gw.backoff_seconds))
            retry.setdefault(when.replace(microsecond=0) + dt.timedelta(seconds=1), []).append(n.pk)
        else:
            out["failed"] += 1
            failed.append(n.pk)
    # the records in one transaction, the audit trail one entry per broker and run listing every attempt
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts, batch_size=500)
        for org_id, ids_ in sent.items():
            if follow_up:
                Notification.objects.filter(pk__in=ids_).update(followed_up_at=done_at)
            else:
                Notification.objects.filter(pk__in=ids_).update(
                    status=Notification.SENT, sent_at=done_at, next_attempt_at=None,
                    follow_up_due_at=done_at + dt.timedelta(hours=gateways[org_id].follow_up_hours))
        if failed and not follow_up:
            Notification.objects.filter(pk__in=failed).update(status=Notification.FAILED, next_attempt_at=None)
        if retry:
            last = max(retry)
            retry_at[last] = sorted(i for ids_ in retry.values() for i in ids_)
            if not follow_up:
                Notification.objects.filter(pk__in=retry_at[last]).update(next_attempt_at=last)
        for org_id in gateways:
            mine = [a for a in attempts if a.notification.organisation_id == org_id]
            if mine:
                audit.record("dispatch", model="notification.Attempt", object_id=f"{len(mine)} attempts",
                             object_repr=f"{'follow-up' if follow_up else 'notification'} dispatch: "
                                         f"{sum(a.ok for a in mine)} delivered, {sum(not a.ok for a in mine)} not",
                             organisation_id=org_id, actor=None, changes={"attempts": [
                                 [a.notification_id, a.number, a.follow_up, a.ok, a.status_code, a.error[:120]]
                                 for a in mine]})
        # retries of one run go out together, at the latest of their back-off times (a few seconds apart)
        for when, ids_ in retry_at.items():
            _enqueue(ids_, follow_up=follow_up, run_after=when)
        for when, ids_ in follow_ups.items():
            _enqueue(ids_, follow_up=True, run_after=when)
    return dict(out)


def follow_up_due(now=None) -> int:
    """Queue the follow-ups that are due and not yet queued by dispatch (e.g. after a restore): for a
    periodic job (`ccinspect web notify-follow-up`)."""
    now = now or timezone.now()
    ids = list(Notification.objects.filter(status=Notification.SENT, answer="", followed_up_at__isnull=True,
                                           follow_up_due_at__lte=now, expires_at__gt=now).values_list("pk", flat=True))
    _enqueue(ids, follow_up=True)
    return len(ids)


# ---- answers ----------------------------------------------------------------------------------------------

def remember_signature(header: str, tolerance: int = contract.TOLERANCE_SECONDS) -> bool:
    """False when this exact signed request was accepted before (a replay)."""
    SeenSignature.objects.filter(at__lt=timezone.now() - dt.timedelta(seconds=3 * tolerance)).delete()
    try:
        with transaction.atomic():
            SeenSignature.objects.create(digest=contract.signature_digest(header))
    except IntegrityError:
        return False
    return True


@transaction.atomic
def answer(token: str, answer_value: str, *, via: str, broker=None) -> Notification:
    """Record the customer's answer. The token is single-use and expires; "not me" opens a case with the
    detection time carried over and marks the account for the broker's lock-and-reset."""
    if answer_value not in (Notification.ME, Notification.NOT_ME):
        raise ServiceError(f"answer {str(answer_value)[:20]!r}: expected me or not_me")
    qs = Notification.objects.select_for_update().filter(token_digest=contract.token_digest(str(token or "")))
    if broker is not None:
        qs = qs.filter(organisation=broker)
    n = qs.first()
    if n is None:
        raise AnswerRefused("unknown", "no such confirmation token")
    if n.answer:
        raise AnswerRefused("answered", "this confirmation token has already been used")
    if n.expired:
        raise AnswerRefused("expired", "this confirmation token has expired")
    now = timezone.now()
    with audit.acting_as(None):
        n.answer, n.answered_at, n.answered_via, n.status = answer_value, now, via[:10], Notification.ANSWERED
        n.save(update_fields=["answer", "answered_at", "answered_via", "status"])
        if answer_value == Notification.NOT_ME:
            Case.objects.create(organisation_id=n.organisation_id, notification=n, account=n.account,
                                detected_at=n.detected_at, lock_reset_requested_at=now)
    return n


# ---- cases --------------------------------------------------------------------------------------------

def _case_for_update(user, case: Case) -> Case:
    require_preparer(user, case.organisation_id)
    return Case.objects.select_for_update().select_related("notification").get(pk=case.pk)


@transaction.atomic
def escalate(user, case: Case, *, title: str = "", personal_data=None, description: str = ""):
    """A reportable incident: recorded on the register with the case's detection time, so its reporting
    clocks run from when the login was detected, not from now."""
    from ccinspect.web.incidents.services import create_incident

    case = _case_for_update(user, case)
    if case.status != Case.OPEN:
        raise ServiceError(f"{case.code} is already {case.get_status_display()}")
    n = case.notification
    inc = create_incident(user, case.organisation, {
        "title": title.strip() or f"{case.code} 客戶表示非本人登入 / a customer did not make a login ({n.kind})",
        "category": "account_takeover", "detected_at": case.detected_at, "customers_affected": 1,
        "description": description or (
            f"由 {case.code}（通知 {n.code}）開立：客戶於 {timezone.localtime(n.answered_at):%Y-%m-%d %H:%M} 回覆"
            f"「非本人登入」。\nRaised from {case.code} (notification {n.code}): the customer answered "
            f"\"this was not me\" at {timezone.localtime(n.answered_at):%Y-%m-%d %H:%M}."),
        "personal_data": list(personal_data or [])})
    with audit.acting_as(user):
        case.status, case.incident, case.decided_by, case.decided_at = Case.ESCALATED, inc, user, timezone.now()
        case.save()
    return inc


@transaction.atomic
def close_case(user, case: Case, note: str) -> Case:
    case = _case_for_update(user, case)
    if case.status != Case.OPEN:
        raise ServiceError(f"{case.code} is already {case.get_status_display()}")
    if not note.strip():
        raise ServiceError("say why this is not a reportable incident / 請說明不需通報之理由")
    with audit.acting_as(user):
        case.status, case.note, case.decided_by, case.decided_at = Case.CLOSED, note.strip(), user, timezone.now()
        case.save()
    return case


@transaction.atomic
def lock_reset_done(user, case: Case) -> Case:
    case = _case_for_update(user, case)
    if case.lock_reset_done_at:
        raise ServiceError("the lock-and-reset has already been recorded")
    with audit.acting_as(user):
        case.lock_reset_done_at = timezone.now()
        case.save(update_fields=["lock_reset_done_at"])
    return case


# ---- the records point 16 takes ------------------------------------------------------------------------

def figures(org_ids, start=None, end=None) -> dict:
    """Counts only (no account ids): what the regulator and the checklist item see."""
    qs = Notification.objects.filter(organisation_id__in=org_ids)
    if start:
        qs = qs.filter(detected_at__date__gte=start)
    if end:
        qs = qs.filter(detected_at__date__lte=end)
    f = qs.aggregate(
        requested=Count("id"), sent=Count("id", filter=Q(sent_at__isnull=False)),
        failed=Count("id", filter=Q(status=Notification.FAILED)),
        queued=Count("id", filter=Q(status=Notification.QUEUED)),
        answered=Count("id", filter=~Q(answer="")), me=Count("id", filter=Q(answer=Notification.ME)),
        not_me=Count("id", filter=Q(answer=Notification.NOT_ME)),
        followed_up=Count("id", filter=Q(followed_up_at__isnull=False)),
        unanswered=Count("id", filter=Q(answer="", sent_at__isnull=False)))
    cases = Case.objects.filter(notification__in=qs)
    f.update(cases.aggregate(cases=Count("id"), cases_open=Count("id", filter=Q(status=Case.OPEN)),
                             escalated=Count("id", filter=Q(status=Case.ESCALATED)),
                             closed=Count("id", filter=Q(status=Case.CLOSED)),
                             lock_pending=Count("id", filter=Q(lock_reset_done_at__isnull=True))))
    f["attempts"] = Attempt.objects.filter(notification__in=qs).count()
    return f


def point16_status(f: dict) -> str:
    """pass: notifications went out, none undelivered, every "not me" decided; fail: undelivered
    notifications or undecided cases; manual: nothing to judge by (no notification in the period)."""
    if not f["requested"]:
        return "manual"
    if f["failed"] or f["cases_open"]:
        return "fail"
    return "pass" if not f["queued"] else "manual"


def point16_items(insp):
    from ccinspect.catalog import load_catalog
    from ccinspect.notification.rules import FOCUS_POINT

    point = next(p for p in load_catalog().focus_points.points if p.id == FOCUS_POINT)
    return list(insp.items.filter(ref_id__in=point.ref_ids, assessable=True)), point


def attach_to_inspection(user, insp, *, base_url: str = "") -> dict:
    """The inspection's checklist item(s) for point 16 take their result from the notification records of
    the inspected period, as automated evidence with links to the records."""
    from ccinspect.web.inspections import services as isvc

    items, point = point16_items(insp)
    if not items:
        raise ServiceError(f"this inspection has no checklist item for focus point {point.id}")
    f = figures([insp.organisation_id], insp.period_start, insp.period_end)
    status = point16_status(f)
    q = f"?from={insp.period_start:%Y-%m-%d}&to={insp.period_end:%Y-%m-%d}"
    links = {"notifications": f"{base_url}/notification/{q}", "cases": f"{base_url}/notification/cases/{q}"}
    summary = (f"customer notification ({point.text}): {f['requested']} requested, {f['sent']} sent, "
               f"{f['failed']} not delivered, {f['answered']} answered ({f['me']} me, {f['not_me']} not me), "
               f"{f['followed_up']} followed up; cases {f['cases']} ({f['escalated']} escalated, "
               f"{f['closed']} closed, {f['cases_open']} open)")
    rows = [{"ref_id": i.ref_id, "status": status, "summary": summary,
             "facts": [{"message": summary, "focus_point": point.id, "period": [str(insp.period_start),
                                                                                str(insp.period_end)],
                        "counts": f, "links": links}],
             "checks": [{"analyzer": "notification", "rule": point.id}]} for i in items]
    return isvc.import_results(user, insp, {"results": rows}, source="notification records") | {
        "status": status, "counts": f}
