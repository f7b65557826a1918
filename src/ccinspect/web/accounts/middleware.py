"""Who is acting (for the audit trail), the policy gate (forced password change, rotation, MFA) and the
idle-session clock."""

from __future__ import annotations

import time

from django.shortcuts import redirect
from django.urls import reverse

from . import audit
from .passwords import owed_step

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


class DownloadAuditMiddleware:
    """Every download (a response sent as an attachment: evidence, reports, exports, from a page or the API)
    goes into the audit trail with who, what and which broker's. A view names the broker and the object by
    setting `audit_organisation_id` / `audit_object` on the response; otherwise the user's own broker."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        disposition = response.get("Content-Disposition", "")
        if response.status_code == 200 and disposition.startswith("attachment"):
            user = getattr(request, "user", None)
            obj = getattr(response, "audit_object", None)
            org = getattr(response, "audit_organisation_id", None)
            audit.record("download", obj, model="" if obj is not None else "download",
                         object_repr="" if obj is not None else request.path,
                         organisation_id=org if org is not None else getattr(user, "organisation_id", None),
                         actor=user if getattr(user, "pk", None) else None,
                         changes={"path": [None, request.get_full_path()[:500]],
                                  "file": [None, disposition.partition("filename=")[2].strip('"')[:300]]})
        return response


class PolicyMiddleware:
    """A signed-in user who must change the password (first login, expired) goes to the change form;
    an admin without a verified second factor goes to MFA setup. Nothing else is reachable until then."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            step = owed_step(user, second_factor=user.is_verified())
            if step in ("must_change", "expired"):
                return redirect(reverse("password_change") + "?next=" + request.path)
            if step == "mfa":
                return redirect("mfa_setup")
        return self.get_response(request)


class SessionRefreshMiddleware:
    """Idle expiry without a database write on every request: a signed-in session's expiry is pushed forward
    (by saving it) at most once per REFRESH_SECONDS, so a session expires after SESSION_COOKIE_AGE idle, give
    or take a minute. Django's SESSION_SAVE_EVERY_REQUEST would write the session row on every page, fragment
    and poll. Sits inside SessionMiddleware, which does the saving."""

    REFRESH_SECONDS = 60
    KEY = "_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.REFRESH_SECONDS:
                session[self.KEY] = now  # a modified session is saved with a new expiry
        return response
