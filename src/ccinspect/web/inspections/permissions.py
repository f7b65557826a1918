"""Who sees and does what. A broker's users see only their own broker; the regulator and the site admin
see every broker (read-only for the regulator)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ccinspect.web.accounts.models import REGULATOR_ROLES, Organisation, Role

from .models import Evidence, Finding, Inspection


def brokers_for(user):
    qs = Organisation.objects.filter(kind=Organisation.BROKER)
    if not user.is_authenticated:
        return qs.none()
    if user.sees_all_brokers:
        return qs
    return qs.filter(pk=user.organisation_id)


def scoped(qs, user, field: str = "organisation"):
    if not user.is_authenticated:
        return qs.none()
    if user.sees_all_brokers:
        return qs
    if user.organisation_id is None:
        return qs.none()
    return qs.filter(**{f"{field}_id": user.organisation_id})


def inspections_for(user):
    return scoped(Inspection.objects.select_related("organisation"), user)


def findings_for(user):
    return scoped(Finding.objects.select_related("organisation", "owner", "inspection"), user)


def evidence_for(user):
    return scoped(Evidence.objects.select_related("uploaded_by"), user)


def get_or_404(qs, pk):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def member_of(user, organisation_id) -> bool:
    return user.is_authenticated and user.organisation_id == organisation_id


def require_preparer(user, organisation_id) -> None:
    """Prepare: the broker's own security officer or broker admin."""
    if not (member_of(user, organisation_id) and user.role in (Role.SECURITY_OFFICER, Role.BROKER_ADMIN)):
        raise PermissionDenied("only the broker's security officer or administrator may do this")


def require_reviewer(user, organisation_id) -> None:
    if not (member_of(user, organisation_id) and user.role == Role.COMPUTER_AUDITOR):
        raise PermissionDenied("only the broker's computer auditor may do this")


def require_broker_member(user, organisation_id) -> None:
    if not member_of(user, organisation_id) or user.role in REGULATOR_ROLES:
        raise PermissionDenied("only the broker's own users may do this")


def require_regulator_reviewer(user) -> None:
    """A regulator's finding is closed (or its retest sent back) by the regulator, not the broker."""
    if not (user.is_authenticated and user.role in REGULATOR_ROLES):
        raise PermissionDenied("only the regulator may accept the retest of its own finding")
