"""Creating users and resetting passwords: random initial passwords, changed at first login."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from . import audit
from .models import MULTI_BROKER_ROLES, Organisation, Role, User
from .passwords import random_password


def can_manage_users(actor, org: Organisation | None) -> bool:
    if actor.role == Role.SITE_ADMIN:
        return True
    return actor.role == Role.BROKER_ADMIN and org is not None and actor.organisation_id == org.pk


@transaction.atomic
def create_user(actor, *, organisation: Organisation | None, username: str, role: str, first_name: str = "",
                last_name: str = "", title: str = "", email: str = "", password: str | None = None
                ) -> tuple[User, str]:
    """A new user with a random initial password (returned once), to be changed at first login."""
    if actor is not None and not can_manage_users(actor, organisation):
        raise PermissionDenied("you may not create users for this organisation")
    check_role(actor, role, organisation)
    if organisation is not None and organisation.retired_at:
        raise LifecycleError("券商已終止，不能新增使用者；the broker is retired: it takes no new users")
    if not username:
        raise LifecycleError("請填使用者名稱；a user name is required")
    if User.objects.filter(username__iexact=username).exists():
        raise LifecycleError(f"使用者名稱已被使用；the user name {username!r} is taken")
    initial = password or random_password()
    with audit.acting_as(actor):
        user = User(username=username, organisation=organisation, role=role, first_name=first_name,
                    last_name=last_name, title=title, email=email, must_change_password=True,
                    password_changed_at=timezone.now())
        user.set_password(initial)
        user.save()
    return user, initial


@transaction.atomic
def reset_password(actor, user: User) -> str:
    if not can_manage_users(actor, user.organisation):
        raise PermissionDenied("you may not reset this user's password")
    initial = random_password()
    with audit.acting_as(actor):
        if user.password:
            user.password_history.create(password=user.password)
        user.set_password(initial)
        user.must_change_password = True
        user.password_changed_at = timezone.now()
        user.save()
        # A reset is what an administrator does for a lost or exposed password: the user's API tokens
        # may be just as exposed, so they go too (each deletion is in the audit trail).
        user.api_tokens.all().delete()
    return initial


# ---- the user lifecycle: disable, re-enable, change role, unlock ------------------------------------------

class LifecycleError(ValueError):
    """Bad input (a missing reason, a role the organisation cannot have): the message says which."""


def _managed(actor, user: User) -> None:
    if actor is not None and not can_manage_users(actor, user.organisation):
        raise PermissionDenied("you may not manage this user")
    if actor is not None and actor.pk == user.pk:
        raise LifecycleError("不能變更自己的帳號狀態或角色；you cannot disable, re-enable or change the role of yourself")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleError("請填理由；a reason is required")
    return reason[:300]


def end_sessions(user: User) -> int:
    """Sign the user out everywhere now: delete every session that belongs to the user."""
    from django.contrib.sessions.models import Session

    ended = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now())
             if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def disable_user(actor, user: User, reason: str, *, check: bool = True) -> User:
    """A leaver: the account cannot sign in, its sessions end and its API tokens are deleted, at once."""
    if check:
        _managed(actor, user)
    reason = _reason(reason)
    with audit.acting_as(actor):
        user.is_active = False
        user.save(update_fields=["is_active"])
        sessions = end_sessions(user)
        user.api_tokens.all().delete()  # each deletion is in the audit trail
        audit.record("disable", user, changes={"reason": [None, reason], "sessions_ended": [None, sessions]})
    return user


@transaction.atomic
def enable_user(actor, user: User, reason: str) -> User:
    _managed(actor, user)
    reason = _reason(reason)
    if user.organisation is not None and user.organisation.retired_at:
        raise LifecycleError("券商已終止，帳號不能啟用；the broker is retired: its users stay disabled")
    with audit.acting_as(actor):
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit.record("enable", user, changes={"reason": [None, reason]})
    return user


def check_role(actor, role: str, organisation: Organisation | None) -> None:
    """The role exists, the actor may give it, and the organisation can have it."""
    if role not in Role.values:
        raise LifecycleError(f"未知角色；unknown role {role!r}")
    if actor is not None and actor.role == Role.BROKER_ADMIN and role in MULTI_BROKER_ROLES:
        raise PermissionDenied("a broker administrator gives broker roles only")
    if role in (Role.BROKER_ADMIN, Role.SECURITY_OFFICER, Role.COMPUTER_AUDITOR) and (
            organisation is None or not organisation.is_broker):
        raise LifecycleError("券商角色須屬於券商；broker roles belong to a broker")
    if Role(role).reads_many_brokers and organisation is not None and organisation.is_broker:
        raise LifecycleError("券商的使用者不能讀取其他券商；a broker's user cannot have a role that reads every broker")


@transaction.atomic
def change_role(actor, user: User, role: str) -> User:
    """A new role; a role that needs a second factor asks for one at the user's next request."""
    _managed(actor, user)
    check_role(actor, role, user.organisation)
    if role == user.role:
        return user
    with audit.acting_as(actor):
        user.role = role
        user.save(update_fields=["role"])  # the audit trail records the role before and after
    return user


def locked_usernames(usernames) -> set[str]:
    """Which of these user names django-axes locks out now (failures at the limit within the cool-off)."""
    from axes.models import AccessAttempt
    from django.conf import settings

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(AccessAttempt.objects.filter(username__in=list(usernames), attempt_time__gte=since,
                                            failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
               .values_list("username", flat=True))


@transaction.atomic
def unlock_user(actor, user: User, reason: str) -> int:
    """Clear django-axes' failed attempts for the user name (a lockout ends); the reason is audited."""
    from axes.utils import reset

    if actor is not None and not can_manage_users(actor, user.organisation):
        raise PermissionDenied("you may not manage this user")
    reason = _reason(reason)
    cleared = reset(username=user.username)
    audit.record("unlock", user, actor=actor, changes={"reason": [None, reason], "attempts_cleared": [None, cleared]})
    return cleared
