"""The user lifecycle (disable, re-enable, role, unlock, search and paging), second factors for the roles that
read many brokers, and the audit trail of sign-in failures, lockouts, unlocks and downloads."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ccinspect.web.accounts.models import MULTI_BROKER_ROLES, AuditEvent, Role, User
from ccinspect.web.accounts.services import (
    LifecycleError,
    change_role,
    create_user,
    disable_user,
    unlock_user,
)

from .conftest import PASSWORD, deficient_with_finding, login_client, make_user, token_for

pytestmark = pytest.mark.django_db


def _fail(username, times=3):
    for _ in range(times):
        r = Client().post("/accounts/login/", {"username": username, "password": "wrong-Password-9"})
    return r


def test_disable_ends_sessions_and_tokens_at_once_and_enable_restores(world):
    admin = login_client(Client(), world.admin)
    officer = login_client(Client(), world.officer)
    key = token_for(world.officer)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert officer.get("/dashboard/").status_code == 200 and api.get("/api/inspections").status_code == 200
    r = admin.post("/accounts/users/", {"action": "disable", "user": world.officer.pk, "reason": ""})
    assert r.status_code == 400 and "reason is required" in r.content.decode()
    assert User.objects.get(pk=world.officer.pk).is_active
    r = admin.post("/accounts/users/", {"action": "disable", "user": world.officer.pk, "reason": "離職"})
    assert r.status_code == 302
    assert officer.get("/dashboard/").status_code == 302  # the session is gone
    assert api.get("/api/inspections").status_code == 401
    assert Client().post("/accounts/login/", {"username": "officer_a", "password": PASSWORD}).status_code == 200
    ev = AuditEvent.objects.get(action="disable", object_id=str(world.officer.pk))
    assert ev.changes["reason"][1] == "離職" and ev.actor_username == "admin_a" and ev.organisation_id == world.a.pk
    assert ev.changes["sessions_ended"][1] == 1
    assert AuditEvent.objects.filter(model="accounts.ApiToken", action="delete").exists()
    page = admin.get("/accounts/users/?status=disabled").content.decode()
    assert "officer_a" in page and "auditor_a" not in page
    admin.post("/accounts/users/", {"action": "enable", "user": world.officer.pk, "reason": "回任"})
    assert Client().post("/accounts/login/", {"username": "officer_a", "password": PASSWORD}).status_code == 302
    assert AuditEvent.objects.filter(action="enable", object_id=str(world.officer.pk)).exists()


def test_role_changes_and_their_limits(world):
    admin = login_client(Client(), world.admin)
    admin.post("/accounts/users/", {"action": "role", "user": world.officer.pk, "role": Role.COMPUTER_AUDITOR})
    assert User.objects.get(pk=world.officer.pk).role == Role.COMPUTER_AUDITOR
    ev = AuditEvent.objects.filter(model="accounts.User", action="update", object_id=str(world.officer.pk)).first()
    assert ev.changes["role"] == [Role.SECURITY_OFFICER, Role.COMPUTER_AUDITOR]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        change_role(world.admin, world.auditor, Role.REGULATOR)
    with pytest.raises(PermissionDenied):
        change_role(world.admin, world.officer_b, Role.COMPUTER_AUDITOR)  # another broker's user
    with pytest.raises(LifecycleError, match="yourself"):
        change_role(world.admin, world.admin, Role.SECURITY_OFFICER)
    with pytest.raises(LifecycleError, match="reads every broker"):
        change_role(world.site, world.auditor, Role.REGULATOR)
    with pytest.raises(LifecycleError, match="broker roles belong to a broker"):
        change_role(world.site, world.regulator, Role.SECURITY_OFFICER)
    assert admin.post("/accounts/users/", {"action": "role", "user": world.officer_b.pk, "role": "x"}
                      ).status_code == 403


def test_failed_sign_ins_lockout_and_unlock_with_a_reason(world):
    r = _fail("officer_a")
    assert r.status_code == 429
    failed = AuditEvent.objects.filter(action="login_failed", object_id=str(world.officer.pk))
    assert failed.count() == 3 and failed.first().organisation_id == world.a.pk
    assert failed.first().changes["ip"][1] == "127.0.0.1"
    assert AuditEvent.objects.filter(action="lockout", object_id=str(world.officer.pk)).count() == 1
    _fail("nobody-here", 1)
    assert AuditEvent.objects.filter(action="login_failed", object_repr="nobody-here", organisation_id=None).exists()
    admin = login_client(Client(), world.admin)
    page = admin.get("/accounts/users/?status=locked").content.decode()
    assert "officer_a" in page and 'value="unlock"' in page and "auditor_a" not in page
    assert admin.post("/accounts/users/", {"action": "unlock", "user": world.officer.pk, "reason": ""}
                      ).status_code == 400
    assert Client().post("/accounts/login/", {"username": "officer_a", "password": PASSWORD}).status_code == 429
    admin.post("/accounts/users/", {"action": "unlock", "user": world.officer.pk, "reason": "本人來電確認"})
    assert Client().post("/accounts/login/", {"username": "officer_a", "password": PASSWORD}).status_code == 302
    ev = AuditEvent.objects.get(action="unlock")
    assert ev.changes["reason"][1] == "本人來電確認" and ev.changes["attempts_cleared"][1] >= 1
    with pytest.raises(PermissionDenied_()):
        unlock_user(world.admin, world.officer_b, "x")


def PermissionDenied_():
    from django.core.exceptions import PermissionDenied

    return PermissionDenied


def test_search_and_paging(world):
    for k in range(60):
        create_user(world.site, organisation=world.a, username=f"bulk{k:02d}", role=Role.SECURITY_OFFICER,
                    title="分行人員" if k % 2 else "稽核")
    site = login_client(Client(), world.site)
    page1 = site.get("/accounts/users/").content.decode()
    assert page1.count('<tr id="user-') == 50 and "Page 1 of 2" in page1
    page2 = site.get("/accounts/users/?page=2").content.decode()
    assert 0 < page2.count('<tr id="user-') < 50
    found = site.get("/accounts/users/?q=分行").content.decode()
    assert found.count('<tr id="user-') == 30 and "bulk01" in found and "bulk02" not in found
    admin_view = login_client(Client(), world.admin).get("/accounts/users/?q=officer").content.decode()
    assert "officer_a" in admin_view and "officer_b" not in admin_view  # another broker's users never show


def test_second_factor_for_every_role_that_reads_many_brokers(world):
    assert {Role.REGULATOR, Role.REGULATOR_SUPERVISOR} <= MULTI_BROKER_ROLES
    assert Role(Role.REGULATOR).needs_second_factor and Role(Role.REGULATOR_SUPERVISOR).needs_second_factor
    assert not Role(Role.SECURITY_OFFICER).needs_second_factor
    reg = make_user("reg2", world.reg, Role.REGULATOR)  # no device
    c = login_client(Client(), reg)
    assert c.get("/regulator/").url.startswith("/accounts/mfa/")
    r = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(reg)}").get("/api/inspections")
    assert r.status_code == 401 and "second factor" in r.json()["detail"]
    assert login_client(Client(), world.regulator).get("/regulator/").status_code == 200  # has a device


def test_downloads_of_evidence_and_reports_are_audited(world):
    _item, ev, _f = deficient_with_finding(world)
    reg = login_client(Client(), world.regulator)
    assert reg.get(f"/evidence/{ev.pk}/download/").status_code == 200
    rec = AuditEvent.objects.filter(action="download").latest("id")
    assert rec.actor_username == "regulator" and rec.organisation_id == world.a.pk  # the broker sees it
    assert rec.model == "inspections.Evidence" and rec.object_id == str(ev.pk)
    assert rec.changes["file"][1] == "proof.txt"
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.auditor)}")
    assert api.get(f"/api/evidence/{ev.pk}/download").status_code == 200
    assert AuditEvent.objects.filter(action="download", actor_username="auditor_a").count() == 1
    officer = login_client(Client(), world.officer)
    r = officer.get(f"/reports/inspections/{world.insp_a.pk}/xlsx/")
    assert r.status_code == 200, r.status_code
    rec = AuditEvent.objects.filter(action="download").latest("id")
    assert rec.model == "inspections.Inspection" and rec.organisation_id == world.a.pk
    assert officer.get("/reports/tracking.xlsx").status_code == 200
    assert AuditEvent.objects.filter(action="download", changes__path__1="/reports/tracking.xlsx").exists()
    # the broker's auditor reads them in its own trail; the other broker does not
    assert login_client(Client(), world.auditor).get("/audit/").content.decode().count("download") >= 2


def test_users_api(world):
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.admin)}")
    body = {"username": "new_officer", "role": Role.SECURITY_OFFICER, "title": "資安人員"}
    r = admin.post("/api/users", json.dumps(body), content_type="application/json")
    assert r.status_code == 201 and r.json()["organisation_id"] == world.a.pk and r.json()["initial_password"]
    assert admin.post("/api/users", json.dumps(body), content_type="application/json").status_code == 400
    new = User.objects.get(username="new_officer")
    listed = admin.get("/api/users?q=new_").json()
    assert listed["count"] == 1 and listed["users"][0]["username"] == "new_officer"
    assert admin.get("/api/users").json()["count"] == world.a.users.count()
    r = admin.post(f"/api/users/{new.pk}/role", json.dumps({"role": Role.COMPUTER_AUDITOR}),
                   content_type="application/json")
    assert r.status_code == 200 and r.json()["role"] == Role.COMPUTER_AUDITOR
    r = admin.post(f"/api/users/{new.pk}/disable", json.dumps({"reason": "test"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert admin.post(f"/api/users/{world.officer_b.pk}/disable", json.dumps({"reason": "x"}),
                      content_type="application/json").status_code == 404
    _fail("auditor_a")
    r = admin.post(f"/api/users/{world.auditor.pk}/unlock", json.dumps({"reason": "verified"}),
                   content_type="application/json")
    assert r.status_code == 200 and r.json()["locked"] is False and r.json()["attempts_cleared"] >= 1
    officer = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    assert officer.get("/api/users").status_code == 403
    disable_user(world.admin, world.officer, "leaver")
    assert officer.get("/api/users").status_code == 401
