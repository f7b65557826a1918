"""Onboarding, editing and retiring brokers, for the pages, the API and the CLI alike.

The profile is validated by `BrokerProfile` (the applicability engine's own model) and kept as dated
versions under `Organisation.profile["history"]`; the top-level fields are the latest version (what older
readers of `profile` see). Organisation is an audited model, so every change is in the audit trail with its
actor (`audit.acting_as`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError
from pydantic_core import PydanticUndefined

from ccinspect.applicability import BrokerProfile, profile_tier
from ccinspect.applicability.profile import NO_CAPITAL
from ccinspect.core.dates import DateParseError, parse_date
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import Organisation, Role
from ccinspect.web.inspections.services import catalog


@dataclass
class BrokerError(ValueError):
    """Bad input: messages by field ("" for the whole record), each in Traditional Chinese and English."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k or 'broker'}: {m}" for k, ms in self.errors.items() for m in ms)


# The profile's own fields, in the form's order; "name" is the organisation's.
PROFILE_FIELDS = [n for n in BrokerProfile.model_fields if n != "name"]


def defaults() -> dict:
    """BrokerProfile's defaults (what a new broker's form starts from)."""
    return {n: f.default for n, f in BrokerProfile.model_fields.items()
            if n in PROFILE_FIELDS and f.default not in (None, PydanticUndefined, "") and not f.default_factory}


def may_manage_brokers(actor) -> bool:
    """Site administrators (and the CLI, which runs with no actor)."""
    return actor is None or getattr(actor, "role", None) == Role.SITE_ADMIN


def validate_profile(data: dict, name: str) -> BrokerProfile:
    """`data` as the BrokerProfile model takes it (strings from a form are fine); errors by field."""
    unknown = sorted(set(data) - set(PROFILE_FIELDS))
    errors: dict[str, list[str]] = {}
    if unknown:
        errors[""] = [f"未知欄位 unknown field(s): {', '.join(unknown)} (known: {', '.join(PROFILE_FIELDS)})"]
    try:
        profile = BrokerProfile.model_validate({**{k: v for k, v in data.items() if k in PROFILE_FIELDS},
                                                "name": name})
    except ValidationError as exc:
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing" and key == "capital":
                msg = NO_CAPITAL
            errors.setdefault(key, []).append(msg)
        raise BrokerError(errors) from None
    if errors:
        raise BrokerError(errors)
    return profile


def stored(profile: BrokerProfile) -> dict:
    """The profile as stored (JSON; the name lives on the organisation)."""
    return profile.model_dump(mode="json", exclude={"name"})


def _day(value, field_name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(value, field=field_name)
    except DateParseError as exc:
        raise BrokerError({field_name: [f"日期無法辨識；{exc}"]}) from None


def versions(org: Organisation) -> list[dict]:
    """The dated versions, oldest first (a profile written before versions existed is one version)."""
    data = org.profile or {}
    if data.get("history"):
        return sorted(data["history"], key=lambda v: v["from"])
    fields = {k: v for k, v in data.items() if k != "history"}
    return [{"from": dt.date.min.isoformat(), "profile": fields, "note": "", "by": "", "at": ""}] if fields else []


@transaction.atomic
def save_broker(actor, *, org: Organisation | None = None, name: str, profile: dict,
                effective_from=None, note: str = "") -> Organisation:
    """Create a broker (org None) or add a profile version to one, in force from `effective_from` (by
    default the capital's as-of date for a new broker, else today). A version on the same date as an
    existing one replaces it (a correction)."""
    if not may_manage_brokers(actor):
        raise PermissionDenied("only a site administrator manages brokers")
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["請填名稱；a name is required"]
    elif Organisation.objects.filter(name=name).exclude(pk=getattr(org, "pk", None)).exists():
        errors["name"] = [f"名稱「{name}」已有組織使用；the name {name!r} is taken"]
    try:
        prof = validate_profile(profile, name or "broker")
    except BrokerError as exc:
        prof = None
        for k, ms in exc.errors.items():
            errors.setdefault(k, []).extend(ms)
    if prof is not None and prof.broker_code:
        taken = Organisation.objects.filter(kind=Organisation.BROKER, profile__broker_code=prof.broker_code)
        if org is not None:
            taken = taken.exclude(pk=org.pk)
        if taken.exists():
            errors.setdefault("broker_code", []).append(
                f"證券商代號 {prof.broker_code} 已有券商使用；the broker code {prof.broker_code} is taken")
    if org is not None and org.retired_at:
        errors.setdefault("", []).append("券商已終止，不能修改；the broker is retired and cannot be changed")
    if errors:
        raise BrokerError(errors)
    if effective_from in (None, ""):
        effective_from = prof.capital_as_of if org is None and prof.capital_as_of else timezone.localdate()
    day = _day(effective_from, "effective_from")
    entry = {"from": day.isoformat(), "profile": stored(prof), "note": (note or "").strip()[:500],
             "by": getattr(actor, "username", "") or "system", "at": timezone.now().isoformat(timespec="seconds")}
    history = [v for v in (versions(org) if org is not None else []) if v["from"] != entry["from"]]
    history = sorted([*history, entry], key=lambda v: v["from"])
    with audit.acting_as(actor):
        if org is None:
            org = Organisation(kind=Organisation.BROKER)
        elif not org.is_broker:
            raise BrokerError({"": ["不是券商；this organisation is not a broker"]})
        org.name = name
        org.profile = {**history[-1]["profile"], "history": history}
        org.save()
    return org


@transaction.atomic
def retire_broker(actor, org: Organisation, reason: str) -> Organisation:
    """The broker keeps its records; its users are disabled (sessions and tokens end) and it takes no new
    users. A reason is required."""
    from ccinspect.web.accounts.services import disable_user

    if not may_manage_brokers(actor):
        raise PermissionDenied("only a site administrator manages brokers")
    reason = (reason or "").strip()
    if not reason:
        raise BrokerError({"reason": ["請填終止理由；a reason is required"]})
    if org.retired_at:
        raise BrokerError({"": ["券商已終止；the broker is already retired"]})
    with audit.acting_as(actor):
        org.retired_at, org.retired_reason = timezone.now(), reason[:500]
        org.save()
        for user in org.users.filter(is_active=True):
            disable_user(actor, user, f"broker retired: {reason}", check=False)
    return org


def summary(org: Organisation, on: dt.date | None = None) -> dict:
    """The broker as the API and the CLI show it: the profile in force on a date, its tier and its versions."""
    on = on or timezone.localdate()
    out = {"id": org.pk, "name": org.name, "retired_at": org.retired_at.isoformat() if org.retired_at else None,
           "retired_reason": org.retired_reason, "as_of": on.isoformat(), "versions": versions(org)}
    try:
        prof = org.broker_profile(on)
    except ValueError as exc:  # a profile written before validation: shown, not hidden
        return out | {"profile": None, "tier": None, "error": str(exc)}
    return out | {"profile": stored(prof), "tier": profile_tier(prof, catalog())}
