"""The application complies with the rules it checks: Argon2, password policy, forced first change,
rotation, lockout after three failures, TOTP MFA for admins, session expiry, CSRF, the audit trail."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ccinspect.web.accounts.models import ApiToken, AuditError, AuditEvent, Role, User
from ccinspect.web.accounts.passwords import change_password, random_password
from ccinspect.web.accounts.services import create_user, reset_password
from ccinspect.web.inspections import services as svc

from .conftest import PASSWORD, login_client, token_for


def _code(user) -> str:
    d = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(d.bin_key, d.step, d.t0, d.digits, d.drift):06d}"


def _login(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_passwords_are_argon2():
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher") or "Argon2" in settings.PASSWORD_HASHERS[0]


def test_argon2_in_production_settings(world):
    assert world.officer.password.startswith("argon2")


def test_lockout_after_three_failures(world):
    c = Client()
    for _ in range(2):
        resp = _login(c, "officer_a", "wrong-password-1")
        assert resp.status_code == 200 and "not correct" in resp.content.decode()
    resp = _login(c, "officer_a", "wrong-password-1")
    assert resp.status_code == 429
    # now even the right password is refused
    resp = _login(Client(), "officer_a", PASSWORD)
    assert resp.status_code == 429 and "_auth_user_id" not in Client().session
    # another user is not affected
    assert _login(Client(), "auditor_a").status_code == 302


def test_success_resets_the_failure_count(world):
    c = Client()
    _login(c, "officer_a", "bad-1")
    _login(c, "officer_a", "bad-2")
    assert _login(c, "officer_a").status_code == 302
    c2 = Client()
    _login(c2, "officer_a", "bad-3")
    _login(c2, "officer_a", "bad-4")
    assert _login(c2, "officer_a").status_code == 302


def test_mfa_login_and_wrong_codes_count_towards_lockout(world):
    c = Client()
    resp = _login(c, "admin_a")
    assert resp.status_code == 200 and 'name="token"' in resp.content.decode()
    assert c.get("/dashboard/").status_code == 302, "not signed in before the code"
    resp = c.post("/accounts/login/", {"step": "token", "token": _code(world.admin)})
    assert resp.status_code == 302
    assert c.get("/dashboard/").status_code == 200
    c2 = Client()
    _login(c2, "admin_a")
    c2.post("/accounts/login/", {"step": "token", "token": "000000"})
    c2.post("/accounts/login/", {"step": "token", "token": "000001"})
    resp = c2.post("/accounts/login/", {"step": "token", "token": "000002"})
    assert resp.status_code == 429


def test_admin_without_mfa_must_enrol_before_anything_else(world):
    user = world.admin
    TOTPDevice.objects.filter(user=user).delete()
    c = Client()
    assert _login(c, "admin_a").status_code == 302
    resp = c.get("/inspections/")
    assert resp.status_code == 302 and resp["Location"].endswith("/accounts/mfa/")
    page = c.get("/accounts/mfa/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert c.post("/accounts/mfa/", {"token": "123"}).status_code == 400
    time.sleep(1.1)  # django-otp throttles after a wrong code (1 s, doubling)
    code = f"{totp(device.bin_key):06d}"
    assert c.post("/accounts/mfa/", {"token": code}).status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    assert c.get("/inspections/").status_code == 200


def test_mfa_enrolment_shows_the_otpauth_uri_as_an_inline_qr_code(world):
    import re

    import segno

    c = login_client(Client(), world.officer)
    resp = c.get("/accounts/mfa/")
    html = resp.content.decode()
    device = TOTPDevice.objects.get(user=world.officer, confirmed=False)
    assert "no-store" in resp["Cache-Control"]  # the page carries the secret
    svg = re.search(r'<div class="qr-box" id="totp-qr">(<svg .*?</svg>)</div>', html, re.S)[1]
    assert 'role="img"' in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    # the code drawn is the device's otpauth URI (with its secret), nothing fetched from elsewhere
    assert device.config_url.startswith("otpauth://totp/")
    expected = segno.make(device.config_url, error="m").svg_inline(scale=5, border=3, lineclass=None)
    assert re.findall(r' d="([^"]+)"', expected)[-1] in re.findall(r' d="([^"]+)"', svg)
    assert "<img" not in html.split("<main>")[1]


def test_mfa_is_available_to_every_user(world):
    c = login_client(Client(), world.officer)
    c.get("/accounts/mfa/")
    device = TOTPDevice.objects.get(user=world.officer)
    assert c.post("/accounts/mfa/", {"token": f"{totp(device.bin_key):06d}"}).status_code == 302
    c2 = Client()
    resp = _login(c2, "officer_a")
    assert 'name="token"' in resp.content.decode(), "the second factor is now asked for"


@pytest.mark.parametrize("pw, message", [
    ("Ab1!", "too short"),
    ("onlyletterslong", "digit or symbol"),
    ("12345678901234", "digit or symbol"),
    ("password123", "too common"),
])
def test_password_policy(world, pw, message):
    with pytest.raises(ValidationError) as exc:
        validate_password(pw, world.officer)
    assert any(message in m for m in exc.value.messages), exc.value.messages


def test_no_reuse_of_recent_passwords(world):
    u = world.officer
    change_password(u, "First-pass-001")
    change_password(u, "Second-pass-002")
    with pytest.raises(ValidationError, match="recently"):
        change_password(u, "First-pass-001")
    with pytest.raises(ValidationError, match="recently"):
        change_password(u, "Second-pass-002")
    change_password(u, "Third-pass-003")
    assert u.check_password("Third-pass-003")


def test_forced_change_of_the_initial_password(world):
    user, initial = create_user(world.admin, organisation=world.a, username="newbie", role=Role.SECURITY_OFFICER,
                                title="資安人員")
    assert user.must_change_password and initial != "newbie"
    c = Client()
    assert _login(c, "newbie", initial).status_code == 302
    resp = c.get("/inspections/")
    assert resp.status_code == 302 and "/accounts/password/" in resp["Location"]
    resp = c.post("/accounts/password/", {"old_password": initial, "new_password1": initial,
                                          "new_password2": initial})
    assert resp.status_code == 400 and "recently" in resp.content.decode()
    resp = c.post("/accounts/password/", {"old_password": initial, "new_password1": "Brand-new-pass-9",
                                          "new_password2": "Brand-new-pass-9"})
    assert resp.status_code == 302
    assert c.get("/inspections/").status_code == 200
    assert not User.objects.get(username="newbie").must_change_password


def test_random_initial_passwords_meet_the_policy(world):
    pws = {random_password() for _ in range(20)}
    assert len(pws) == 20
    for pw in pws:
        validate_password(pw, world.officer)


def test_password_rotation_after_ninety_days(world):
    u = world.officer
    User.objects.filter(pk=u.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    c = login_client(Client(), u)
    resp = c.get("/findings/")
    assert resp.status_code == 302 and "/accounts/password/" in resp["Location"]


def test_session_expiry_and_csrf(world):
    assert settings.SESSION_COOKIE_AGE <= 30 * 60 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    c = Client(enforce_csrf_checks=True)
    login_client(c, world.officer)
    item = world.insp_a.items.filter(assessable=True).first()
    resp = c.post(f"/inspections/{world.insp_a.pk}/items/{item.pk}/", {"result": "compliant"})
    assert resp.status_code == 403
    item.refresh_from_db()
    assert item.result == "not_assessed"


def test_only_managers_create_users_and_only_in_their_broker(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_user(world.officer, organisation=world.a, username="x1", role=Role.SECURITY_OFFICER)
    with pytest.raises(PermissionDenied):
        create_user(world.admin, organisation=world.b, username="x2", role=Role.SECURITY_OFFICER)
    with pytest.raises(PermissionDenied):
        create_user(world.admin, organisation=world.a, username="x3", role=Role.SITE_ADMIN)


# ---- audit trail ----------------------------------------------------------------------------------------

def test_audit_records_who_when_and_what_changed(world):
    item = world.insp_a.items.filter(assessable=True).first()
    svc.set_item_result(world.officer, item, "deficient", notes="gap found")
    ev = AuditEvent.objects.filter(model="inspections.ChecklistItem", action="update",
                                   object_id=str(item.pk)).first()
    assert ev is not None
    assert ev.actor_username == "officer_a" and ev.actor_title == "資安專責人員"
    assert ev.changes["result"] == ["not_assessed", "deficient"] and ev.changes["notes"] == ["", "gap found"]
    assert ev.organisation_id == world.a.pk and ev.at
    created = AuditEvent.objects.filter(model="inspections.Inspection", action="create").count()
    assert created == 2
    pw = AuditEvent.objects.filter(model="accounts.User", action="create").first()
    assert "<secret>" in str(pw.changes.get("password")) and "argon2" not in str(pw.changes)


def test_audit_trail_is_read_only_for_everyone(world):
    ev = AuditEvent.objects.first()
    ev.action = "forged"
    with pytest.raises(AuditError):
        ev.save()
    with pytest.raises(AuditError):
        ev.delete()
    with pytest.raises(AuditError):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(AuditError):
        AuditEvent.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE accounts_auditevent SET action = 'forged'")
    assert not AuditEvent.objects.filter(action="forged").exists()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM accounts_auditevent")


def test_audit_page_visibility(world):
    assert login_client(Client(), world.auditor).get("/audit/").status_code == 200
    assert login_client(Client(), world.admin).get("/audit/").status_code == 200
    assert login_client(Client(), world.officer).get("/audit/").status_code == 403
    page = login_client(Client(), world.auditor).get("/audit/").content.decode()
    assert "officer_b" not in page and "Broker B" not in page
    assert login_client(Client(), world.auditor).post("/audit/").status_code == 405


def test_api_tokens_pass_the_same_gate_as_sign_in(world):
    """A token is no way around a forced password change, an expired password or an admin's missing MFA."""
    officer = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    assert officer.get("/api/inspections").status_code == 200
    assert officer.get("/api/openapi.json").status_code == 200

    User.objects.filter(pk=world.officer.pk).update(must_change_password=True)
    resp = officer.get("/api/inspections")
    assert resp.status_code == 401 and "must change its password" in resp.json()["detail"]
    assert officer.get("/api/openapi.json").status_code == 401

    old = timezone.now() - dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS + 1)
    User.objects.filter(pk=world.officer.pk).update(must_change_password=False, password_changed_at=old)
    resp = officer.get("/api/inspections")
    assert resp.status_code == 401 and f"older than {settings.PASSWORD_MAX_AGE_DAYS} days" in resp.json()["detail"]
    User.objects.filter(pk=world.officer.pk).update(password_changed_at=timezone.now())
    assert officer.get("/api/inspections").status_code == 200

    admin = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.admin)}")
    assert admin.get("/api/inspections").status_code == 200
    TOTPDevice.objects.filter(user=world.admin).delete()
    resp = admin.get("/api/inspections")
    assert resp.status_code == 401 and "second factor" in resp.json()["detail"]


def test_password_reset_revokes_the_users_tokens(world):
    key = token_for(world.officer)
    token_for(world.auditor)
    reset_password(world.admin, world.officer)
    assert not ApiToken.objects.filter(user=world.officer).exists()
    assert ApiToken.objects.filter(user=world.auditor).count() == 1, "only the reset user's tokens go"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/inspections").status_code == 401
    gone = AuditEvent.objects.filter(model="accounts.ApiToken", action="delete")
    assert gone.count() == 1 and gone.get().actor_username == world.admin.username


def test_idle_clock_is_refreshed_at_most_once_a_minute(world):
    """A signed-in session expires after SESSION_COOKIE_AGE idle; activity pushes the expiry forward, but with
    at most one session write a minute (not one per page, fragment and poll)."""
    from django.contrib.sessions.models import Session  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from ccinspect.web.accounts.middleware import SessionRefreshMiddleware as R  # noqa: PLC0415

    c = login_client(Client(), world.officer)
    assert c.get("/findings/").status_code == 200
    key = c.cookies[settings.SESSION_COOKIE_NAME].value
    first = Session.objects.get(session_key=key).expire_date
    assert abs((first - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 30

    with CaptureQueriesContext(connection) as q:
        assert c.get("/findings/").status_code == 200
    writes = [x["sql"] for x in q.captured_queries if "django_session" in x["sql"] and not x["sql"].startswith("SELECT")]
    assert writes == [], "a second page within the minute writes no session"

    s = c.session  # the last refresh was over a minute ago
    s[R.KEY] -= R.REFRESH_SECONDS + 1
    s.save()
    Session.objects.filter(session_key=key).update(expire_date=first - dt.timedelta(minutes=5))
    assert c.get("/findings/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date > first - dt.timedelta(minutes=5), "pushed forward"

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    resp = c.get("/findings/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"], "idle past the age: signed out"
