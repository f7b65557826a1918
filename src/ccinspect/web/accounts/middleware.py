"""Who is acting (for the audit trail), and the policy gate: forced password change, rotation, MFA."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse

from . import audit
from .passwords import password_expired

EXEMPT_PREFIXES = ("/static/", "/api/", "/i18n/", "/accounts/logout/", "/accounts/login/",
                   "/accounts/password/", "/accounts/mfa/")


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        token = audit.set_actor(user if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            audit.reset_actor(token)


class PolicyMiddleware:
    """A signed-in user who must change the password (first login, expired) goes to the change form;
    an admin without a verified second factor goes to MFA setup. Nothing else is reachable until then."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            if user.must_change_password or password_expired(user):
                return redirect(reverse("password_change") + "?next=" + request.path)
            if user.mfa_required and not user.is_verified():
                return redirect("mfa_setup")
        return self.get_response(request)
