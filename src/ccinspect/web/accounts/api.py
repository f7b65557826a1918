"""/api/users: the user lifecycle for site and broker administrators (the users page's services and checks)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema, Status

from ccinspect.web.inspections.permissions import get_or_404

from . import services as svc
from .models import Organisation, Role
from .views import managed_users

router = Router(tags=["users"])


class UserIn(Schema):
    username: str
    role: str
    organisation_id: int | None = None  # default: the administrator's own
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    email: str = ""


class ReasonIn(Schema):
    reason: str


class RoleIn(Schema):
    role: str


def _admin(request):
    user = request.auth
    if user.role not in (Role.SITE_ADMIN, Role.BROKER_ADMIN):
        raise PermissionDenied("only site and broker administrators manage users")
    return user


def _out(u, locked: set[str] | None = None) -> dict:
    locked = locked if locked is not None else svc.locked_usernames([u.username])
    return {"id": u.pk, "username": u.username, "first_name": u.first_name, "last_name": u.last_name,
            "title": u.title, "email": u.email, "role": u.role, "organisation_id": u.organisation_id,
            "organisation": u.organisation.name if u.organisation_id else None, "is_active": u.is_active,
            "locked": u.username in locked, "mfa_required": u.mfa_required}


@router.get("")
def users(request, q: str = "", status: str = "", limit: int = 50, offset: int = 0):
    """Search (user name, name, title, organisation), status active|disabled|locked, paged by limit/offset."""
    actor = _admin(request)
    qs = managed_users(actor, q, status)
    limit = max(1, min(limit, 500))
    rows = list(qs[max(offset, 0):max(offset, 0) + limit])
    locked = svc.locked_usernames(u.username for u in rows)
    return {"count": qs.count(), "limit": limit, "offset": offset, "users": [_out(u, locked) for u in rows]}


@router.post("", response={201: dict})
def create(request, body: UserIn):
    """A new user; the initial password is returned once and must be changed at the first sign-in."""
    actor = _admin(request)
    org_id = body.organisation_id or actor.organisation_id
    org = Organisation.objects.filter(pk=org_id).first() if org_id else None
    if org_id and org is None:
        raise PermissionDenied("you may not create users for this organisation")
    user, initial = svc.create_user(actor, organisation=org, username=body.username.strip(), role=body.role,
                                    first_name=body.first_name, last_name=body.last_name, title=body.title,
                                    email=body.email.strip())
    return Status(201, _out(user) | {"initial_password": initial})


def _target(request, user_id: int):
    return get_or_404(managed_users(_admin(request)), user_id)


@router.post("/{user_id}/disable")
def disable(request, user_id: int, body: ReasonIn):
    """Disable at once: the user's sessions end and its API tokens are deleted."""
    return _out(svc.disable_user(request.auth, _target(request, user_id), body.reason))


@router.post("/{user_id}/enable")
def enable(request, user_id: int, body: ReasonIn):
    return _out(svc.enable_user(request.auth, _target(request, user_id), body.reason))


@router.post("/{user_id}/role")
def role(request, user_id: int, body: RoleIn):
    return _out(svc.change_role(request.auth, _target(request, user_id), body.role))


@router.post("/{user_id}/unlock")
def unlock(request, user_id: int, body: ReasonIn):
    """End a django-axes lockout (the failed attempts are cleared); the reason goes into the audit trail."""
    target = _target(request, user_id)
    cleared = svc.unlock_user(request.auth, target, body.reason)
    return _out(target) | {"attempts_cleared": cleared}
