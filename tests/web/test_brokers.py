"""Brokers as records: onboarding, dated profile versions and retirement, in the pages, the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from typer.testing import CliRunner

from ccinspect.applicability import BrokerProfile
from ccinspect.cli import app
from ccinspect.web.accounts.models import ApiToken, AuditEvent, Organisation
from ccinspect.web.brokers import services as bsvc
from ccinspect.web.brokers.forms import BrokerForm
from ccinspect.web.inspections import services as svc

from .conftest import login_client, token_for

pytestmark = pytest.mark.django_db

FORM = {"name": "新創證券股份有限公司", "broker_code": "9a99", "capital": "250億", "capital_as_of": "113/06/30",
        "internet_orders": "on", "traditional_orders": "on", "securities_brokerage": "on", "mobile_app": "on",
        "fiscal_year_end": "12-31", "core_systems": "下單系統\n帳務系統\n", "last_performed.penetration-test": "2024-03-31",
        "note": "onboarding"}


def test_the_form_carries_every_profile_field():
    """Generated from BrokerProfile: every field is in the form (the recurring duties' last dates one each)."""
    duties = [(d.id, d.name, d.name_en) for d in svc.catalog().recurring.duties]
    form = BrokerForm(duties=duties)
    for name in BrokerProfile.model_fields:
        if name == "last_performed":
            assert {f"last_performed.{d[0]}" for d in duties} <= set(form.fields)
        else:
            assert name in form.fields, name
    assert {"broker_code", "foreign_branch", "capital_as_of", "tier_override", "tier_override_reason",
            "core_systems"} <= set(form.fields)


def test_site_admin_onboards_edits_and_the_tier_moves_on_the_change_date(world):
    c = login_client(Client(), world.site)
    r = c.post("/brokers/new/", FORM)
    assert r.status_code == 302, r.content.decode()[:2000]
    org = Organisation.objects.get(name=FORM["name"])
    assert org.is_broker and org.profile["broker_code"] == "9A99" and org.profile["capital"] == 25_000_000_000
    assert org.profile["history"][0]["from"] == "2024-06-30"  # a new broker: from the capital's as-of date
    assert org.broker_profile().core_systems == ["下單系統", "帳務系統"]
    assert org.broker_profile().last_performed == {"penetration-test": dt.date(2024, 3, 31)}
    assert svc.applicability(org, dt.date(2025, 1, 1)).tier == 1
    ev = AuditEvent.objects.filter(model="accounts.Organisation", object_id=str(org.pk), action="create").get()
    assert ev.actor_username == "site" and ev.changes["profile"][1]["capital"] == 25_000_000_000
    # a capital reduction to 30億 from 2025-07-01: tier 1 until the day before, tier 4 from it
    r = c.post(f"/brokers/{org.pk}/", FORM | {"capital": "NT$3,000,000,000", "effective_from": "2025-07-01",
                                              "note": "減資"})
    assert r.status_code == 302
    org.refresh_from_db()
    assert [v["from"] for v in org.profile["history"]] == ["2024-06-30", "2025-07-01"]
    assert svc.applicability(org, dt.date(2025, 6, 30)).tier == 1
    assert svc.applicability(org, dt.date(2025, 7, 1)).tier == 4
    cal = {o.id for o in svc.calendar_for(org, dt.date(2025, 1, 1), dt.date(2025, 12, 31), kind=None)}
    assert "duty:health-check:2025-12-31" not in cal  # tier 4 on the due date: no health check
    upd = AuditEvent.objects.filter(model="accounts.Organisation", object_id=str(org.pk), action="update").get()
    assert upd.changes["profile"][1]["capital"] == 3_000_000_000 and upd.actor_username == "site"
    page = c.get(f"/brokers/{org.pk}/").content.decode()
    assert "2025-07-01" in page and "減資" in page


@pytest.mark.parametrize("change,field,text", [
    ({"capital": ""}, "capital", "未填實收資本額或指撥營運資金"),
    ({"capital": "0"}, "capital", "no paid-in or allocated operating capital"),
    ({"capital": "lots"}, "capital", "is not an amount"),
    ({"broker_code": "12"}, "broker_code", "證券商代號應為 4 碼英數字"),
    ({"tier_override": "2"}, "tier_override_reason", "a tier override needs its reason"),
    ({"capital_as_of": "yesterday"}, "capital_as_of", "capital_as_of"),
    ({"e_trading_share": "140"}, "e_trading_share", "outside 0–100%"),
    ({"name": ""}, "name", "required"),
])
def test_bad_input_is_refused_by_field_and_nothing_is_saved(world, change, field, text):
    c = login_client(Client(), world.site)
    before = Organisation.objects.count(), AuditEvent.objects.count()
    r = c.post("/brokers/new/", FORM | change)
    assert r.status_code == 400
    assert text in r.context["form"].errors[field][0]
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before


def test_a_taken_broker_code_and_other_roles(world):
    c = login_client(Client(), world.site)
    assert c.post("/brokers/new/", FORM).status_code == 302
    r = c.post("/brokers/new/", FORM | {"name": "Other"})
    assert r.status_code == 400 and "9A99" in r.context["form"].errors["broker_code"][0]
    for user in (world.admin, world.regulator, world.officer):
        u = login_client(Client(), user)
        assert u.get("/brokers/").status_code == 403
        assert u.post("/brokers/new/", FORM | {"name": "x"}).status_code == 403


def test_retire_disables_the_users_ends_sessions_and_tokens(world):
    c = login_client(Client(), world.site)
    officer = login_client(Client(), world.officer)
    assert officer.get("/dashboard/").status_code == 200
    token_for(world.officer)
    assert c.post(f"/brokers/{world.a.pk}/retire/", {"reason": ""}).status_code == 302
    world.a.refresh_from_db()
    assert world.a.retired_at is None
    c.post(f"/brokers/{world.a.pk}/retire/", {"reason": "合併消滅"})
    world.a.refresh_from_db()
    assert world.a.retired_at is not None and world.a.retired_reason == "合併消滅"
    assert not world.a.users.filter(is_active=True).exists()
    assert not ApiToken.objects.filter(user__organisation=world.a).exists()
    assert officer.get("/dashboard/").status_code == 302  # signed out
    assert AuditEvent.objects.filter(action="disable", object_id=str(world.officer.pk)).exists()
    r = c.post(f"/brokers/{world.a.pk}/", FORM | {"name": world.a.name})
    assert r.status_code == 400 and "retired" in r.content.decode()


def test_api_create_update_retire(world):
    site = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.site)}")
    body = {"name": "API 證券", "profile": {"capital": "45億", "broker_code": "7000", "foreign_branch": True},
            "effective_from": "2025-01-01"}
    r = site.post("/api/brokers", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["tier"] == 3 and out["profile"]["foreign_branch"] is True
    bad = site.post("/api/brokers", json.dumps(body | {"name": "x", "profile": {"capital": 0}}),
                    content_type="application/json")
    assert bad.status_code == 400 and "capital" in bad.json()["errors"]
    r = site.put(f"/api/brokers/{out['id']}", json.dumps(body | {"profile": {"capital": "150億"},
                                                               "effective_from": "2025-09-01"}),
                 content_type="application/json")
    assert r.status_code == 200
    rec = site.get(f"/api/brokers/{out['id']}/record?as_of=2025-08-31").json()
    assert rec["tier"] == 3 and len(rec["versions"]) == 2
    assert site.get(f"/api/brokers/{out['id']}/record?as_of=114/09/01").json()["tier"] == 2
    officer = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    assert officer.post("/api/brokers", json.dumps(body | {"name": "y"}), content_type="application/json"
                        ).status_code == 403
    r = site.post(f"/api/brokers/{out['id']}/retire", json.dumps({"reason": "停業"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["retired_reason"] == "停業"


def test_cli_create_show_edit_retire(world, tmp_path):
    prof = tmp_path / "b.yaml"
    prof.write_text("name: 命令列證券\ncapital: 120億\ncapital_as_of: 2024-12-31\nbroker_code: '6000'\n",
                    encoding="utf-8")
    run = CliRunner().invoke
    res = run(app, ["broker", "create", "--profile", str(prof), "--as", "site", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["tier"] == 2
    prof.write_text("capital: 250億\n", encoding="utf-8")
    res = run(app, ["broker", "edit", "6000", "--profile", str(prof), "--from", "2025-03-01", "--note", "增資"])
    assert res.exit_code == 0, res.output
    res = run(app, ["broker", "show", "命令列證券", "--as-of", "2025-02-28", "--format", "json"])
    assert json.loads(res.output)["tier"] == 2
    res = run(app, ["broker", "show", "6000", "--as-of", "2025-03-01", "--format", "json"])
    assert json.loads(res.output)["tier"] == 1
    org = Organisation.objects.get(name="命令列證券")
    assert AuditEvent.objects.filter(model="accounts.Organisation", object_id=str(org.pk), actor_username="site",
                                     action="create").exists()
    prof.write_text("capital: 0\n", encoding="utf-8")
    res = run(app, ["broker", "edit", "6000", "--profile", str(prof)])
    assert res.exit_code == 2 and "no paid-in or allocated operating capital" in res.output
    assert len(bsvc.versions(Organisation.objects.get(pk=org.pk))) == 2
    res = run(app, ["broker", "retire", "6000", "--reason", "test"])
    assert res.exit_code == 0 and "retired" in res.output


def test_the_openapi_document_has_no_duplicate_keys(world):
    """Swagger UI (js-yaml) refuses a document with a key twice (an operation's 400 declared as int and str)."""

    def unique(pairs):
        keys = [k for k, _v in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    raw = login_client(Client(), world.officer).get("/api/openapi.json").content.decode()
    doc = json.loads(raw, object_pairs_hook=unique)
    assert "post" in doc["paths"]["/api/brokers"] and "/api/users/{user_id}/unlock" in doc["paths"]
