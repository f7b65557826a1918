"""Sign-in (password, then TOTP when the user has a device), password change, MFA setup, API tokens,
user management and the audit trail."""

from __future__ import annotations

import base64

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, user_login_failed
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ccinspect.web.pagination import paginate

from . import audit
from .models import MULTI_BROKER_ROLES, ApiToken, AuditEvent, Organisation, Role, User
from .passwords import change_password
from .services import (
    can_manage_users,
    change_role,
    create_user,
    disable_user,
    enable_user,
    locked_usernames,
    reset_password,
    unlock_user,
)

PENDING = "ccinspect_pending_user"


def _next(request, default="dashboard"):
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return nxt
    return None if default is None else redirect(default).url


def _device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request):
    """Step 1: user name and password (django-axes counts failures and locks after three).
    Step 2, for users with a confirmed TOTP device: the six-digit code (failures count too)."""
    step = "password"
    error = ""
    pending_id = request.session.get(PENDING)
    if request.method == "POST" and request.POST.get("step") == "token" and pending_id:
        user = User.objects.filter(pk=pending_id, is_active=True).first()
        creds = {"username": user.username if user else ""}
        if user is None or AxesProxyHandler.is_locked(request, creds):
            request.session.pop(PENDING, None)
            return render(request, "accounts/locked.html", status=429)
        device = _device(user)
        token = (request.POST.get("token") or "").strip().replace(" ", "")
        if device is not None and token.isdigit() and device.verify_token(token):
            request.session.pop(PENDING, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            audit.record("login", user, actor=user, changes={"mfa": [None, "totp"]})
            return HttpResponseRedirect(_next(request))
        user_login_failed.send(sender=__name__, credentials=creds, request=request)
        if getattr(request, "axes_locked_out", False) or AxesProxyHandler.is_locked(request, creds):
            request.session.pop(PENDING, None)
            return render(request, "accounts/locked.html", status=429)
        step, error = "token", _("The code is not valid. Check the time on your authenticator and try again.")
    elif request.method == "POST":
        username = (request.POST.get("username") or "").strip()
        user = authenticate(request, username=username, password=request.POST.get("password") or "")
        if getattr(request, "axes_locked_out", False):
            return render(request, "accounts/locked.html", status=429)
        if user is None:
            error = _("The user name or password is not correct.")
        elif _device(user) is not None:
            request.session.cycle_key()
            request.session[PENDING] = user.pk
            step = "token"
        else:
            login(request, user)
            audit.record("login", user, actor=user)
            return HttpResponseRedirect(_next(request))
    elif pending_id:
        request.session.pop(PENDING, None)
    return render(request, "accounts/login.html", {"step": step, "error": error,
                                                   "next": request.GET.get("next", request.POST.get("next", ""))})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit.record("logout", request.user, actor=request.user)
    logout(request)
    return redirect("login")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def password_change_view(request):
    errors: list[str] = []
    user = request.user
    if request.method == "POST":
        old, new1, new2 = (request.POST.get(k, "") for k in ("old_password", "new_password1", "new_password2"))
        if not user.check_password(old):
            errors.append(_("Your current password is not correct."))
        elif new1 != new2:
            errors.append(_("The two new passwords differ."))
        else:
            try:
                change_password(user, new1)
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                from django.contrib.auth import update_session_auth_hash

                update_session_auth_hash(request, user)
                messages.success(request, _("Your password has been changed."))
                return HttpResponseRedirect(_next(request))
    return render(request, "accounts/password_change.html", {
        "errors": errors, "help": password_validators_help_texts(), "forced": user.must_change_password,
        "next": request.GET.get("next", "")}, status=400 if errors else 200)


def qr_svg(uri: str, title: str) -> str:
    """The otpauth URI as an inline SVG QR code, drawn here (segno): the secret never leaves the server."""
    import segno

    svg = segno.make(uri, error="m").svg_inline(scale=5, border=3, dark="#000", light="#fff",
                                                 title=title, svgclass="qr", lineclass=None)
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1))


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_setup_view(request):
    """Enrol a TOTP authenticator: show the secret, confirm with a code. Required for admin roles."""
    user = request.user
    confirmed = _device(user)
    if confirmed and request.user.is_verified():
        return render(request, "accounts/mfa_setup.html", {"enrolled": True})
    error = ""
    if confirmed and not request.user.is_verified():
        # an admin signed in before enrolling elsewhere: verify the existing device
        device = confirmed
    else:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=False)
    if request.method == "POST":
        token = (request.POST.get("token") or "").strip().replace(" ", "")
        if token.isdigit() and device.verify_token(token):
            if not device.confirmed:
                device.confirmed = True
                device.save()
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("dashboard")
        error = _("The code is not valid. Check the time on your authenticator and try again.")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    uri = device.config_url if not device.confirmed else ""
    return render(request, "accounts/mfa_setup.html", {
        "enrolled": False, "secret": secret if not device.confirmed else "", "uri": uri,
        "qr": qr_svg(uri, _("QR code for your authenticator app")) if uri else "",
        "error": error, "required": user.mfa_required}, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens_view(request):
    new_key = ""
    if request.method == "POST":
        if request.POST.get("revoke"):
            with audit.acting_as(request.user):
                ApiToken.objects.filter(user=request.user, pk=request.POST["revoke"]).delete()
        else:
            name = (request.POST.get("name") or "").strip()[:100] or "token"
            with audit.acting_as(request.user):
                _tok, new_key = ApiToken.issue(request.user, name)
    return render(request, "accounts/tokens.html", {"tokens": request.user.api_tokens.all(), "new_key": new_key})


def _managed_orgs(user):
    if user.role == Role.SITE_ADMIN:
        return Organisation.objects.all()
    if user.role == Role.BROKER_ADMIN:
        return Organisation.objects.filter(pk=user.organisation_id)
    return Organisation.objects.none()


def managed_users(actor, q: str = "", status: str = ""):
    """The users an administrator looks after, searched (user name, name, title, organisation) and filtered
    (active, disabled, locked)."""
    from django.db.models import Q

    qs = User.objects.filter(organisation__in=_managed_orgs(actor))
    if actor.role == Role.SITE_ADMIN:
        qs = qs | User.objects.filter(organisation__isnull=True)
    qs = qs.select_related("organisation").order_by("organisation__name", "username")
    q = "".join(ch for ch in q if ch.isprintable())  # no NUL and friends: PostgreSQL refuses them in a query
    for word in q.split()[:5]:
        qs = qs.filter(Q(username__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
                       | Q(title__icontains=word) | Q(organisation__name__icontains=word))
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "disabled":
        qs = qs.filter(is_active=False)
    elif status == "locked":
        qs = qs.filter(username__in=locked_usernames(qs.values_list("username", flat=True)))
    return qs


USER_ACTIONS = ("reset", "disable", "enable", "role", "unlock")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def users_view(request):
    """Site and broker administrators: create users, reset a password, disable and re-enable, change a role,
    unlock a locked user (with a reason), with search and paging."""
    if request.user.role not in (Role.SITE_ADMIN, Role.BROKER_ADMIN):
        raise PermissionDenied
    orgs = _managed_orgs(request.user)
    created = None
    error = ""
    if request.method == "POST":
        p = request.POST
        action = p.get("action") or ("reset" if p.get("reset") else "create")
        try:
            if action in USER_ACTIONS:
                target = managed_users(request.user).filter(pk=p.get("user") or p.get("reset") or 0).first()
                if target is None:
                    raise PermissionDenied
                if action == "reset":
                    created = (target, reset_password(request.user, target))
                elif action == "disable":
                    disable_user(request.user, target, p.get("reason", ""))
                    messages.success(request, _("%(user)s is disabled; their sessions and API tokens have ended.")
                                     % {"user": target.username})
                elif action == "enable":
                    enable_user(request.user, target, p.get("reason", ""))
                    messages.success(request, _("%(user)s is enabled again.") % {"user": target.username})
                elif action == "role":
                    change_role(request.user, target, p.get("role", ""))
                    messages.success(request, _("%(user)s now has the role %(role)s.")
                                     % {"user": target.username, "role": target.get_role_display()})
                else:
                    unlock_user(request.user, target, p.get("reason", ""))
                    messages.success(request, _("%(user)s is unlocked.") % {"user": target.username})
                if created is None:
                    return redirect(request.get_full_path())
            else:
                org = orgs.filter(pk=p.get("organisation") or request.user.organisation_id).first()
                if org is None:
                    raise ValueError(_("Choose an organisation you manage."))
                created = create_user(request.user, organisation=org, username=p.get("username", "").strip(),
                                      role=p.get("role", ""), first_name=p.get("first_name", ""),
                                      last_name=p.get("last_name", ""), title=p.get("title", ""),
                                      email=p.get("email", "").strip())
        except ValueError as exc:
            error = str(exc)
    q, status = (request.GET.get("q") or "").strip(), request.GET.get("status") or ""
    page = paginate(request, managed_users(request.user, q, status))
    locked = locked_usernames(u.username for u in page)
    for u in page:
        u.locked = u.username in locked
        u.is_self = u.pk == request.user.pk
    roles = [(v, label) for v, label in Role.choices
             if request.user.role == Role.SITE_ADMIN or v not in MULTI_BROKER_ROLES]
    return render(request, "accounts/users.html", {
        "page": page, "orgs": orgs.filter(retired_at__isnull=True), "roles": roles, "created": created,
        "error": error, "q": q, "status": status, "nav_active": "users"}, status=400 if error else 200)


@login_required
@require_safe
def audit_view(request):
    if not request.user.can_view_audit:
        raise PermissionDenied
    qs = AuditEvent.objects.all()
    if not request.user.sees_all_brokers:
        qs = qs.filter(organisation_id=request.user.organisation_id)
    if request.GET.get("model"):
        qs = qs.filter(model=request.GET["model"])
    page = paginate(request, qs)
    for e in page:
        e.change_rows = _change_rows(e.changes)
    return render(request, "accounts/audit.html", {"page": page})


def _change_rows(changes) -> list[tuple]:
    """(field, before, after) for the page. Not `changes.items` in the template: a change to a field named
    "items" (the demo market's record) would be looked up as the key, and the page would fail."""
    if not isinstance(changes, dict):
        return [("", None, changes)]
    return [(k, v[0], v[1]) if isinstance(v, list | tuple) and len(v) == 2 else (k, None, v)
            for k, v in changes.items()]


__all__ = ["audit_view", "can_manage_users", "login_view", "logout_view", "mfa_setup_view",
           "password_change_view", "tokens_view", "users_view"]
