"""The regulator's views across brokers: the numbers (risk map blocks, cyber risk now, trends by chapter and
tier), the demo market, and that no other role reaches them by URL or API."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.test import Client

from ccinspect.web.accounts.models import AuditEvent, Organisation
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import Finding, Inspection
from ccinspect.web.regulator import metrics as m

from .conftest import login_client, token_for


def _signed_off(w, insp, officer, auditor, deficient: list[int], severity="high"):
    """Every assessable item compliant except those at the given positions, each with a finding; signed off."""
    items = list(insp.items.filter(assessable=True))
    for n, item in enumerate(items):
        svc.set_item_result(officer, item, "deficient" if n in deficient else "compliant")
        if n in deficient:
            svc.raise_finding(officer, item, title=f"gap {n}", severity=severity, due_date="2025-12-31")
    svc.submit(officer, insp)
    svc.sign_off(auditor, insp)
    return [items[n].ref_id for n in deficient]


@pytest.fixture
def market(world):
    w = world
    w.a.profile = {**w.a.profile, "e_trading_share": 70}
    w.a.save()
    w.b.profile = {**w.b.profile, "e_trading_share": 30}
    w.b.save()
    # 2024H2: A has two deficiencies, B none; 2025H1: A four (high, 5 points each), B one
    old_a = svc.create_inspection(w.officer, w.a, "inspection:CC-18000:2024-12")
    old_b = svc.create_inspection(w.officer_b, w.b, "inspection:CC-18000:2024-12")
    w.refs_old = _signed_off(w, old_a, w.officer, w.auditor, [0, 1])
    _signed_off(w, old_b, w.officer_b, w.auditor_b, [])
    w.refs_a = _signed_off(w, w.insp_a, w.officer, w.auditor, [0, 2, 3, 4])
    w.refs_b = _signed_off(w, w.insp_b, w.officer_b, w.auditor_b, [0], severity="critical")
    return w


def test_periods(market):
    assert m.period_of(dt.date(2025, 6, 30)) == "2025H1" and m.period_of(dt.date(2025, 7, 1)) == "2025H2"
    assert m.previous("2025H1") == "2024H2" and m.bounds("2024H2") == (dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    with pytest.raises(ValueError, match="not a half-year period"):
        m.bounds("2025Q1")
    assert m.periods_with_data() == ["2024H2", "2025H1"]
    assert m.periods_with_data(today=dt.date(2025, 6, 30)) == ["2024H2"]  # a period counts once it has ended


def test_risk_map_blocks_and_attention(market):
    d = m.risk_map("2025H1", share_threshold=50, points_threshold=15)
    rows = {r["name"]: r for r in d["brokers"]}
    assert rows["Broker A"]["points"] == 20.0 and rows["Broker A"]["findings"] == 4
    assert rows["Broker A"]["block"] == "attention"
    assert rows["Broker B"]["points"] == 10.0 and rows["Broker B"]["block"] == "normal"
    assert [r["name"] for r in d["attention"]] == ["Broker A"]
    low = m.risk_map("2025H1", share_threshold=50, points_threshold=5)
    assert {r["name"]: r["block"] for r in low["brokers"]} == {"Broker A": "attention", "Broker B": "guidance"}
    assert [r["name"] for r in low["attention"]] == ["Broker A", "Broker B"]
    assert m.risk_map("2024H2", 50, 15)["blocks"] == {"attention": 0, "guidance": 0, "watch": 1, "normal": 1}
    assert [r["name"] for r in m.risk_map("2025H1", tier=4)["brokers"]] == ["Broker B"]


def test_cyber_risk_now_shares_and_change(market):
    d = m.risk_now("2025H1", lang="en")
    assert d["brokers_inspected"] == 2 and d["brokers_inspected_before"] == 2
    by = {r["ref_id"]: r for r in d["types"]}
    first = market.refs_a[0]  # both brokers have it now; A alone had it before
    assert first == market.refs_b[0] == market.refs_old[0]
    assert by[first]["share"] == 100.0 and by[first]["previous"] == 50.0 and by[first]["change"] == 50.0
    assert d["types"][0]["ref_id"] == first and d["rising"][0]["ref_id"] == first
    only_a = market.refs_a[1]
    assert by[only_a]["share"] == 50.0 and by[only_a]["previous"] is None
    gone = market.refs_old[1]
    assert by[gone]["share"] == 0.0 and by[gone]["change"] == -50.0
    assert by[first]["label"] and by[first]["label"] != first  # the requirement's text


def test_trends_by_chapter_and_tier(market):
    d = m.trends()
    assert d["periods"] == ["2024H2", "2025H1"]
    ch = {c["chapter"]: c for c in d["chapters"]}
    assert ch["CC-18000"]["counts"] == [2, 5] and ch["CC-18000"]["points"] == [10.0, 30.0]
    assert d["totals"]["counts"] == [2, 5]
    assert d["by_tier"] == {2: [2, 4], 4: [0, 1]}
    assert m.trends(tier=4)["chapters"][0]["counts"] == [0, 1]


def test_regulator_pages_render(market):
    c = login_client(Client(), market.regulator)
    page = c.get("/regulator/?points=15").content.decode()
    assert "Broker A" in page and 'id="block-attention">1<' in page and "vendor/plotly-basic.min." in page
    # Offline: every script and stylesheet comes from this server (a random CSRF token may contain "cdn").
    import re

    remote = re.findall(r'(?:src|href)="(https?:)?//[^"]*"', page)
    assert not remote, remote
    assert c.get("/regulator/?period=1999H1").status_code == 404
    now = c.get("/regulator/now/").content.decode()
    assert market.refs_a[0] in now and "▲ 50.0" in now
    trends = c.get("/regulator/trends/?tier=2").content.decode()
    assert "CC-18000" in trends
    drill = c.get(f"/regulator/brokers/{market.b.pk}/").content.decode()
    assert "Broker B" in drill and f"/inspections/{market.insp_b.pk}/" in drill and "Read-only" in drill


ROUTES = ["/regulator/", "/regulator/now/", "/regulator/trends/", "/regulator/brokers/{b}/"]
API = ["/api/regulator/risk-map", "/api/regulator/risk-now", "/api/regulator/trends", "/api/regulator/brokers/{b}"]


@pytest.mark.parametrize("who", ["officer", "auditor", "admin", "site"])
def test_only_the_regulator_reaches_them(market, who):
    user = getattr(market, who)
    c = login_client(Client(), user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    for url in ROUTES:
        resp = c.get(url.format(b=market.b.pk))
        assert resp.status_code == 403, url
        assert "Broker B" not in resp.content.decode()
    for url in API:
        resp = api.get(url.format(b=market.b.pk))
        assert resp.status_code == 403, url
        assert "Broker B" not in resp.content.decode()


def test_regulator_api(market):
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(market.regulator)}")
    d = api.get("/api/regulator/risk-map?period=2025H1&points=15").json()
    assert [r["name"] for r in d["attention"]] == ["Broker A"]
    assert api.get("/api/regulator/risk-map?period=2030H1").status_code == 404
    assert api.get("/api/regulator/risk-now").json()["period"] == "2025H1"
    assert api.get("/api/regulator/trends?tier=4").json()["chapters"][0]["counts"] == [0, 1]
    b = api.get(f"/api/regulator/brokers/{market.b.pk}").json()
    assert b["name"] == "Broker B" and {i["id"] for i in b["inspections"]} >= {market.insp_b.pk}
    assert api.get(f"/api/regulator/brokers/{market.reg.pk}").status_code == 404  # not a broker
    for url in API:
        assert Client().get(url.format(b=market.b.pk)).status_code == 401


def test_demo_market(db):
    from ccinspect.web.regulator.demo import seed_market

    out = seed_market(dt.date(2025, 8, 10), periods=2)
    assert out["brokers"] == 64 and out["periods"] == ["2024H2", "2025H1"]
    brokers = Organisation.objects.filter(kind=Organisation.BROKER)
    assert Counter(m.tier_of(b, dt.date(2025, 6, 30)) for b in brokers) == {1: 3, 2: 6, 3: 10, 4: 45}
    assert all("e_trading_share" in b.profile for b in brokers)
    assert Inspection.objects.filter(status=Inspection.SIGNED_OFF).count() == out["inspections"] > 64 * 2 * 8
    assert Finding.objects.count() == out["findings"] > 100
    d = m.risk_map("2025H1")
    assert d["attention"] and sum(d["blocks"].values()) == 64
    assert m.risk_now("2025H1")["types"][0]["share"] > 20
    assert AuditEvent.objects.filter(model="regulator.DemoMarket").count() == 1
    again = seed_market(dt.date(2025, 8, 10), periods=2)
    assert again["new_brokers"] == 0 and again["inspections"] == 0 and brokers.count() == 64
