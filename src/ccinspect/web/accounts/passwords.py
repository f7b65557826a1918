"""Password policy at least as strict as CC-18000.3: length, mixed characters, no reuse of recent
passwords, rotation (PolicyMiddleware), random initial passwords and a forced change at first login."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _


class MixedCharactersValidator:
    """Letters and at least one digit or symbol (CC-18000.3.f: alphanumeric characters or symbols)."""

    def validate(self, password, user=None):
        has_letter = any(c.isalpha() for c in password)
        has_other = any(c.isdigit() or not c.isalnum() for c in password)
        if not (has_letter and has_other):
            raise ValidationError(_("The password must contain letters and at least one digit or symbol."),
                                  code="password_not_mixed")

    def get_help_text(self):
        return _("Your password must contain letters and at least one digit or symbol.")


class HistoryValidator:
    """None of the user's last `count` passwords may be used again."""

    def __init__(self, count: int = 5):
        self.count = count

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None):
            return
        recent = list(user.password_history.values_list("password", flat=True)[: self.count])
        if user.password:
            recent.append(user.password)
        if any(check_password(password, h) for h in recent):
            raise ValidationError(
                _("You used this password recently; choose one not among your last %(n)d.") % {"n": self.count},
                code="password_reused")

    def get_help_text(self):
        return _("You may not reuse any of your last %(n)d passwords.") % {"n": self.count}


def random_password(length: int = 16) -> str:
    """A random initial password, unrelated to the user's identity (CC-18000.3.d), that meets the policy."""
    alphabet = string.ascii_letters + string.digits + "!@#%^*-_=+"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw)
                and any(not c.isalnum() for c in pw)):
            return pw


@transaction.atomic
def change_password(user, new_password: str, *, initial: bool = False) -> None:
    """Validate against the policy, store (Argon2), remember in the history. `initial` marks a password
    set by an administrator: the user must change it at the next login."""
    validate_password(new_password, user)
    if user.password:
        user.password_history.create(password=user.password)
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.must_change_password = initial
    user.save()
    keep = settings.PASSWORD_HISTORY
    stale = list(user.password_history.values_list("pk", flat=True)[keep:])
    if stale:
        user.password_history.filter(pk__in=stale).delete()


def password_expired(user) -> bool:
    if not user.password_changed_at:
        return False
    age = timezone.now() - user.password_changed_at
    return age.days >= settings.PASSWORD_MAX_AGE_DAYS


def owed_step(user, *, second_factor: bool) -> str:
    """What an account must do before it may work, for a session (PolicyMiddleware) and an API token alike:
    "must_change" (first sign-in, a reset), "expired" (password older than the maximum age), "mfa" (an
    administrator without a second factor: `second_factor` says whether there is one), or "" (nothing)."""
    if user.must_change_password:
        return "must_change"
    if password_expired(user):
        return "expired"
    if user.mfa_required and not second_factor:
        return "mfa"
    return ""


def token_refusal(user) -> str:
    """Why this user's API tokens may not be used now ("" when they may)."""
    from django_otp import user_has_device  # noqa: PLC0415 - its models load after the apps

    return {
        "must_change": "the account must change its password at the next sign-in",
        "expired": f"the password is older than {settings.PASSWORD_MAX_AGE_DAYS} days; sign in and change it",
        "mfa": "this role (an administrator's or one that reads many brokers) needs a second factor; sign in and "
               "set one up",
    }.get(owed_step(user, second_factor=user_has_device(user)), "")
