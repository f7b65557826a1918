"""The audit trail: every create, update and delete of the tracked models, with who, when and what changed.

Who comes from the request (ActorMiddleware), the API's token, or `acting_as()` in commands and services.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import uuid

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

_actor: contextvars.ContextVar = contextvars.ContextVar("ccinspect_actor", default=None)

TRACKED = [
    "accounts.Organisation", "accounts.User", "accounts.ApiToken", "otp_totp.TOTPDevice",
    "inspections.Inspection", "inspections.ChecklistItem", "inspections.Evidence", "inspections.Finding",
    "inspections.DeductionRule",
]
SECRET_FIELDS = {"password", "key", "key_hash"}
NOISE_FIELDS = {"last_login", "last_used_at", "last_t", "drift", "throttling_failure_timestamp",
                "throttling_failure_count"}


def current_actor():
    return _actor.get()


def set_actor(user):
    return _actor.set(user)


def reset_actor(token) -> None:
    _actor.reset(token)


@contextlib.contextmanager
def acting_as(user):
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


def _plain(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return "<binary>"
    return value


def snapshot(instance) -> dict:
    # AUDIT_HIDDEN (field -> placeholder): a model's fields the trail must not carry, e.g. customers'
    # account ids, which the regulator (who reads every broker's trail) never sees
    hidden = getattr(instance, "AUDIT_HIDDEN", {})
    out = {}
    for f in instance._meta.concrete_fields:
        if f.attname in NOISE_FIELDS:
            continue
        value = getattr(instance, f.attname)
        out[f.attname] = ("<secret>" if f.attname in SECRET_FIELDS else hidden[f.attname] if f.attname in hidden
                          else _plain(value))
    return out


def _org_of(instance):
    fn = getattr(instance, "audit_organisation_id", None)
    if callable(fn):
        return fn()
    for attr in ("organisation_id",):
        if hasattr(instance, attr):
            return getattr(instance, attr)
    if instance._meta.label == "accounts.Organisation":
        return instance.pk
    if instance._meta.label == "otp_totp.TOTPDevice":
        return getattr(instance.user, "organisation_id", None)
    return None


def record(action: str, instance=None, *, model: str = "", object_id: str = "", object_repr: str = "",
           changes: dict | None = None, organisation_id=None, actor=None):
    from .models import AuditEvent

    actor = actor if actor is not None else current_actor()
    real = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        actor_id=real.pk if real else None,
        actor_username=real.username if real else "system",
        actor_name=real.display_name() if real else "system",
        actor_title=real.title if real else "",
        actor_role=real.role if real else "",
        organisation_id=organisation_id if organisation_id is not None else (
            _org_of(instance) if instance is not None else None),
        action=action,
        model=model or (instance._meta.label if instance is not None else ""),
        object_id=object_id or (str(instance.pk) if instance is not None else ""),
        object_repr=(object_repr or (str(instance) if instance is not None else ""))[:300],
        changes=changes or {},
    )


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None or instance._state.adding:
        instance._audit_before = None
        return
    try:
        old = sender._default_manager.get(pk=instance.pk)
    except sender.DoesNotExist:
        instance._audit_before = None
        return
    instance._audit_before = snapshot(old)


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    after = snapshot(instance)
    if created:
        record("create", instance, changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})})
        return
    before = getattr(instance, "_audit_before", None) or {}
    diff = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if instance._meta.label == "accounts.User" and getattr(instance, "_password_changed", False):
        diff["password"] = ["<secret>", "<changed>"]
    if diff:
        record("update", instance, changes=diff)


def _post_delete(sender, instance, **kwargs):
    record("delete", instance, changes={k: [v, None] for k, v in snapshot(instance).items()})


def _signin_event(action: str, username: str, request, **extra) -> None:
    """A failed sign-in or a lockout, under the user it names (its broker sees it) when that user exists."""
    from .models import User

    username = str(username or "")[:150]
    user = User.objects.filter(username=username).first() if username else None
    ip = getattr(request, "axes_ip_address", None) or (request.META.get("REMOTE_ADDR") if request else None)
    record(action, model="accounts.User", object_id=str(user.pk) if user else "", object_repr=username,
           organisation_id=user.organisation_id if user else None,
           changes={"username": [None, username], "ip": [None, ip], **{k: [None, v] for k, v in extra.items()}})


def _login_failed(sender, credentials=None, request=None, **kwargs):
    _signin_event("login_failed", (credentials or {}).get("username"), request)


def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    _signin_event("lockout", username, request)


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
    user_locked_out.connect(_locked_out, dispatch_uid="audit-lockout")
    for label in TRACKED:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        uid = f"audit-{label}"
        pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + "-pre")
        post_save.connect(_post_save, sender=model, dispatch_uid=uid + "-post")
        post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + "-del")
