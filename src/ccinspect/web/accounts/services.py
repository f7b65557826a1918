"""Creating users and resetting passwords: random initial passwords, changed at first login."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from . import audit
from .models import REGULATOR_ROLES, Organisation, Role, User
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
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    if actor is not None and actor.role == Role.BROKER_ADMIN and (role == Role.SITE_ADMIN or role in REGULATOR_ROLES):
        raise PermissionDenied("a broker administrator creates broker users only")
    if role in (Role.BROKER_ADMIN, Role.SECURITY_OFFICER, Role.COMPUTER_AUDITOR) and (
            organisation is None or not organisation.is_broker):
        raise ValueError("broker roles belong to a broker")
    if User.objects.filter(username__iexact=username).exists():
        raise ValueError(f"the user name {username!r} is taken")
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
