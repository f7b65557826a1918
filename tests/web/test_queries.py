"""Query counts that do not grow with the data, and the pagination of long lists.

Each page is asked for with a few records and again with many more: the number of SQL queries must be the
same (no query per row), and the lists show one page of rows with links to the others. The load benchmark
(bench/web_load.py) measures the speed; these tests keep the query plans from sliding back."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import AuditEvent, Organisation, Role
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import ChecklistItem, Finding, FindingEvent, Inspection
from ccinspect.web.pagination import PER_PAGE

from .conftest import login_client, make_user, token_for

_serial = itertools.count()


def add_inspections(org, n: int, *, officer, status=Inspection.SIGNED_OFF, end=dt.date(2025, 6, 30),
                    deficient_every: int = 3, due=dt.date(2099, 1, 1)) -> list[Inspection]:
    """n inspections of the broker, each with four assessed items in two chapters and a finding (due on
    `due`) on every `deficient_every`-th inspection: rows written directly, as the demo market does."""
    rows = Inspection.objects.bulk_create([Inspection(
        organisation=org, occurrence_id=f"test:{next(_serial)}", unit="CC-16000,CC-18000", title=f"Inspection {k}",
        title_en=f"Inspection {k}", period_start=end - dt.timedelta(days=k + 30), period_end=end - dt.timedelta(days=k),
        due=end + dt.timedelta(days=10), framework_version="2020-12-11", tier=3, status=status, created_by=officer)
        for k in range(n)])
    items = []
    for k, insp in enumerate(rows):
        for order, (ref, chapter) in enumerate([("CC-16000.1", "CC-16000"), ("CC-16000.2", "CC-16000"),
                                                ("CC-18000.1", "CC-18000"), ("CC-18000.2", "CC-18000")]):
            bad = order == 3 and k % deficient_every == 0
            items.append(ChecklistItem(inspection=insp, order=order, ref_id=ref, chapter=chapter, text=ref,
                                       result=ChecklistItem.DEFICIENT if bad else ChecklistItem.COMPLIANT))
    ChecklistItem.objects.bulk_create(items)
    findings = [Finding(organisation=org, inspection=i.inspection, item=i, ref_id=i.ref_id, chapter=i.chapter,
                        title=f"gap {i.pk}", severity="medium", deduction_points=3, owner=officer,
                        due_date=due, created_by=officer)
                for i in items if i.result == ChecklistItem.DEFICIENT]
    Finding.objects.bulk_create(findings)
    FindingEvent.objects.bulk_create([FindingEvent(finding=f, actor=officer, to_status=Finding.OPEN, note="raised")
                                      for f in findings])
    return rows


def queries(client, url: str, **extra) -> tuple[int, object]:
    """(queries, response) of a GET, asked twice: the first fills the process caches (catalog, calendar)."""
    client.get(url, **extra)
    with CaptureQueriesContext(connection) as q:
        resp = client.get(url, **extra)
    assert resp.status_code == 200, (url, resp.status_code)
    return len(q), resp


def rows(html: str, marker: str) -> int:
    return len(re.findall(marker, html))


# ---- query counts: a few records, then many -------------------------------------------------------------

@pytest.mark.parametrize("who", ["officer", "regulator"])
def test_inspection_list(world, who):
    w = world
    c = login_client(Client(), getattr(w, who))
    add_inspections(w.a, 3, officer=w.officer)
    few, _r = queries(c, "/inspections/")
    add_inspections(w.a, 30, officer=w.officer)
    add_inspections(w.b, 30, officer=w.officer_b)
    many, resp = queries(c, "/inspections/")
    assert many == few
    assert rows(resp.content.decode(), r'<a href="/inspections/\d+/">') == (34 if who == "officer" else PER_PAGE)


@pytest.mark.parametrize("who", ["officer", "regulator"])
def test_findings_list(world, who):
    w = world
    c = login_client(Client(), getattr(w, who))
    add_inspections(w.a, 3, officer=w.officer, deficient_every=1, due=dt.date(2020, 1, 1))
    few, _r = queries(c, "/findings/")
    few_overdue, _r = queries(c, "/findings/?status=overdue")
    add_inspections(w.a, 30, officer=w.officer, deficient_every=1, due=dt.date(2020, 1, 1))
    add_inspections(w.b, 30, officer=w.officer_b, deficient_every=1)
    many, resp = queries(c, "/findings/")
    assert many == few
    html = resp.content.decode()
    assert rows(html, r'<a href="/findings/\d+/">F-') == (33 if who == "officer" else PER_PAGE)
    many_overdue, resp = queries(c, "/findings/?status=overdue")
    assert many_overdue == few_overdue
    assert rows(resp.content.decode(), r'<a href="/findings/\d+/">F-') == 33


def _upload(w, item, n):
    for k in range(n):
        svc.add_evidence(w.officer if k % 2 else w.admin, item, name=f"proof-{item.pk}-{k}.txt",
                         data=f"evidence {item.pk} {k}\n".encode())


def test_checklist_with_files_and_findings(world):
    """The checklist: files (and who uploaded them) and findings on its items, three of each, then thirty."""
    w = world
    c = login_client(Client(), w.officer)
    items = list(w.insp_a.items.filter(assessable=True))
    _upload(w, items[0], 3)
    svc.set_item_result(w.officer, items[0], "deficient")
    svc.raise_finding(w.officer, items[0], title="gap", severity="low", due_date="2025-12-31")
    few, _r = queries(c, f"/inspections/{w.insp_a.pk}/")
    for item in items[1:6]:
        _upload(w, item, 6)
        svc.set_item_result(w.officer, item, "deficient")
        svc.raise_finding(w.officer, item, title="gap", severity="low", due_date="2025-12-31")
    many, resp = queries(c, f"/inspections/{w.insp_a.pk}/")
    assert many == few
    html = resp.content.decode()
    assert rows(html, r"/evidence/\d+/download/") == 33
    assert f"Deficient {1 + 5}" in html  # the counts come from the same rows


def test_item_fragment_after_upload(world):
    """The htmx answer to an upload lists the item's files: the same queries with 2 or 20 files there."""
    w = world
    item = w.insp_a.items.filter(assessable=True).first()
    c = login_client(Client(), w.officer)
    url = f"/inspections/{w.insp_a.pk}/items/{item.pk}/evidence/"

    def post(n):
        with CaptureQueriesContext(connection) as q:
            resp = c.post(url, {"file": _file(f"new-{n}.txt")}, HTTP_HX_REQUEST="true")
        assert resp.status_code == 200 and f"new-{n}.txt" in resp.content.decode()
        return len(q)

    _upload(w, item, 2)
    few = post(1)
    _upload(w, item, 18)
    assert post(2) == few


def _file(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, f"content of {name}\n".encode(), content_type="text/plain")


def test_finding_detail(world):
    w = world
    item = w.insp_a.items.filter(assessable=True).first()
    item = svc.set_item_result(w.officer, item, "deficient")
    f = svc.raise_finding(w.officer, item, title="gap", severity="high", due_date="2025-12-31")
    c = login_client(Client(), w.officer)

    def retests(n):
        for k in range(n):
            svc.add_retest_evidence(w.officer, f, name=f"retest-{next(_serial)}.txt", data=f"retest {k} {f.pk}".encode())

    retests(2)
    few, _r = queries(c, f"/findings/{f.pk}/")
    retests(20)
    many, resp = queries(c, f"/findings/{f.pk}/")
    assert many == few
    assert rows(resp.content.decode(), r"/evidence/\d+/download/") == 22


def test_broker_dashboard(world):
    """The broker's dashboard: its charts read every inspection's results in one query."""
    w = world
    c = login_client(Client(), w.officer)
    add_inspections(w.a, 3, officer=w.officer)
    few, _r = queries(c, "/dashboard/")
    add_inspections(w.a, 30, officer=w.officer)
    many, resp = queries(c, "/dashboard/")
    assert many == few
    series = svc.compliance_series(w.a)
    assert sorted(series) == ["CC-16000", "CC-18000"] and len(series["CC-18000"]) == 33
    # an inspection whose CC-18000.2 is deficient: half of CC-18000 compliant; the others all of it
    assert sorted({v for _d, v in series["CC-18000"]}) == [50.0, 100.0] and {v for _d, v in series["CC-16000"]} == {100.0}
    assert [d for d, _v in series["CC-18000"]] == sorted(d for d, _v in series["CC-18000"])


def test_overview_dashboard(world):
    """Everyone's brokers at a glance (the regulator, the site administrator): three queries, not three per
    broker; the counts are the same as counting each broker on its own."""
    w = world
    c = login_client(Client(), w.regulator)
    add_inspections(w.a, 3, officer=w.officer, deficient_every=1)
    few, _r = queries(c, "/dashboard/")
    for k in range(30):
        org = Organisation.objects.create(name=f"Broker {k:02d}", profile={"capital": "10億"})
        officer = make_user(f"officer{k:02d}", org, Role.SECURITY_OFFICER)
        add_inspections(org, 1 + k % 3, officer=officer, deficient_every=1)
    many, resp = queries(c, "/dashboard/")
    assert many == few
    html = resp.content.decode()
    for org in Organisation.objects.filter(kind=Organisation.BROKER):
        open_f = Finding.objects.filter(organisation=org).exclude(status=Finding.CLOSED)
        cells = re.search(rf'\?broker={org.pk}">[^<]*</a></td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', html)
        assert cells, org.name
        assert [int(x) for x in cells.groups()] == [
            Inspection.objects.filter(organisation=org).count(), open_f.count(),
            sum(1 for f in open_f if f.is_overdue)]


def test_regulator_pages(world):
    w = world
    c = login_client(Client(), w.regulator)
    add_inspections(w.a, 3, officer=w.officer)
    urls = ["/regulator/", "/regulator/now/", "/regulator/trends/", f"/regulator/brokers/{w.a.pk}/"]
    few = [queries(c, u)[0] for u in urls]
    for k in range(30):
        org = Organisation.objects.create(name=f"Broker {k:02d}", profile={"capital": "10億", "e_trading_share": k})
        add_inspections(org, 2, officer=make_user(f"officer{k:02d}", org, Role.SECURITY_OFFICER))
    add_inspections(w.a, 60, officer=w.officer)
    assert [queries(c, u)[0] for u in urls] == few
    html = c.get(f"/regulator/brokers/{w.a.pk}/").content.decode()
    table = html.split('id="broker-inspections"')[1].split("</table>")[0]
    assert rows(table, r'<a href="/inspections/\d+/">') == PER_PAGE  # a page of its 64, with the page links
    assert 'rel="next" href="?page=2"' in html


def test_audit_trail(world):
    w = world
    c = login_client(Client(), w.regulator)
    few, _r = queries(c, "/audit/")
    with audit.acting_as(w.officer):
        for k in range(120):
            audit.record("update", model="test.Thing", object_id=str(k), object_repr=f"thing {k}",
                         changes={"items": [k, k + 1], "note": ["a", "b"]}, organisation_id=w.a.pk)
    many, resp = queries(c, "/audit/")
    assert many == few
    html = resp.content.decode()
    assert rows(html, r"test\.Thing #\d+") == PER_PAGE
    # a changed field named "items" is shown like any other (the template once looked it up as dict.items)
    assert "<b>items</b>: 119 → 120" in html


def test_api_lists(world):
    w = world
    add_inspections(w.a, 3, officer=w.officer, deficient_every=1)
    hdr = {"HTTP_AUTHORIZATION": f"Bearer {token_for(w.regulator)}"}
    c = Client()
    few = [queries(c, u, **hdr)[0] for u in ("/api/inspections", "/api/findings")]
    add_inspections(w.a, 40, officer=w.officer, deficient_every=1)
    add_inspections(w.b, 80, officer=w.officer_b, deficient_every=1)
    assert [queries(c, u, **hdr)[0] for u in ("/api/inspections", "/api/findings")] == few


# ---- pagination -----------------------------------------------------------------------------------------

def test_pages_of_the_inspection_list(world):
    w = world
    add_inspections(w.b, 2 * PER_PAGE + 7, officer=w.officer_b)
    total = Inspection.objects.count()  # with the two of the world
    c = login_client(Client(), w.regulator)
    seen = []
    for n in (1, 2, 3):
        html = c.get(f"/inspections/?page={n}").content.decode()
        seen += re.findall(r'<a href="/inspections/(\d+)/">', html)
        assert f"Page {n} of 3" in html
    assert len(seen) == len(set(seen)) == total  # every inspection once, in order, over the pages
    first = c.get("/inspections/").content.decode()
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    assert f"1–{PER_PAGE} of {total}" in first
    last = c.get("/inspections/?page=3").content.decode()
    assert 'rel="prev" href="?page=2"' in last and 'rel="next"' not in last
    # out of range or not a number: the nearest page, not an error
    assert "Page 3 of 3" in c.get("/inspections/?page=99").content.decode()
    assert "Page 1 of 3" in c.get("/inspections/?page=x").content.decode()
    # a broker's own list: its inspections only, on one page without links
    own = login_client(Client(), w.officer).get("/inspections/").content.decode()
    assert rows(own, r'<a href="/inspections/\d+/">') == 1 and 'class="pager"' not in own


def test_page_links_keep_the_filter(world):
    w = world
    add_inspections(w.a, 2 * PER_PAGE, officer=w.officer, deficient_every=1, due=dt.date(2020, 1, 1))
    c = login_client(Client(), w.officer)
    html = c.get("/findings/?status=overdue").content.decode()
    assert 'rel="next" href="?status=overdue&amp;page=2"' in html
    page2 = c.get("/findings/?status=overdue&page=2").content.decode()
    assert "Page 2 of 2" in page2 and rows(page2, r"F-\d+</a>") == PER_PAGE
    assert 'href="?status=overdue&amp;page=1"' in page2


def test_pager_in_chinese(world):
    w = world
    add_inspections(w.a, PER_PAGE + 1, officer=w.officer)
    c = login_client(Client(), w.officer)
    c.cookies["django_language"] = "zh-hant"
    html = c.get("/inspections/?page=2").content.decode()
    assert "第 2 頁，共 2 頁" in html and "上一頁" in html and "第一頁" in html
    assert "Previous" not in html


def test_regulator_broker_page_links_all_open_findings(world):
    w = world
    add_inspections(w.a, 60, officer=w.officer, deficient_every=1)
    c = login_client(Client(), w.regulator)
    html = c.get(f"/regulator/brokers/{w.a.pk}/").content.decode()
    assert f'href="/findings/?broker={w.a.pk}&amp;status=open"' in html and "All 60 open findings" in html
    listed = c.get(f"/findings/?broker={w.a.pk}&status=open").content.decode()
    assert "Page 1 of 2" in listed and "Broker B" not in listed


def test_api_windows(world):
    w = world
    add_inspections(w.a, 130, officer=w.officer)
    hdr = {"HTTP_AUTHORIZATION": f"Bearer {token_for(w.officer)}"}
    c = Client()
    total = Inspection.objects.filter(organisation=w.a).count()
    resp = c.get("/api/inspections", **hdr)
    assert resp.status_code == 200 and len(resp.json()) == 100
    assert resp["X-Total-Count"] == str(total)
    assert 'offset=100&limit=100>; rel="next"' in resp["Link"] and 'rel="prev"' not in resp["Link"]
    seen = []
    url = "/api/inspections?limit=40"
    while url:
        r = c.get(url, **hdr)
        seen += [i["id"] for i in r.json()]
        nxt = re.search(r'<([^>]+)>; rel="next"', r.get("Link", ""))
        url = nxt.group(1).replace("http://testserver", "") if nxt else None
    assert len(seen) == len(set(seen)) == total  # following the links visits every inspection once
    assert c.get("/api/inspections?limit=5&offset=10", **hdr).json()[0]["id"] == seen[10]
    for bad in ("limit=0", "limit=1001", "offset=-1", "limit=x"):
        r = c.get(f"/api/inspections?{bad}", **hdr)
        assert r.status_code == 422, bad
    # the other broker's inspections are not counted
    other = c.get("/api/inspections", HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer_b)}")
    assert other["X-Total-Count"] == "1" and "Link" not in other


def test_audit_pages_keep_the_model_filter(world):
    w = world
    with audit.acting_as(w.officer):
        for k in range(PER_PAGE + 5):
            audit.record("update", model="test.Thing", object_id=str(k), organisation_id=w.a.pk)
    c = login_client(Client(), w.auditor)
    html = c.get("/audit/?model=test.Thing").content.decode()
    assert 'rel="next" href="?model=test.Thing&amp;page=2"' in html
    page2 = c.get("/audit/?model=test.Thing&page=2").content.decode()
    assert rows(page2, r"test\.Thing #\d+") == 5
    assert AuditEvent.objects.filter(model="test.Thing").count() == PER_PAGE + 5


# ---- indexes --------------------------------------------------------------------------------------------

def _plan(qs) -> str:
    """The database's plan for a list page's query. On PostgreSQL sequential scans and sorts are priced out,
    so the plan shows whether an index can give the rows in the page's order at all (on a test database
    this small the planner would read the table either way)."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SET LOCAL enable_seqscan = off")
            c.execute("SET LOCAL enable_sort = off")
            c.execute("EXPLAIN " + sql, params)
        else:
            c.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(r) for r in c.fetchall())


@pytest.mark.django_db(transaction=False)
def test_list_pages_read_an_index_in_their_order(world):
    from ccinspect.web.inspections.permissions import findings_for, inspections_for

    w = world
    cases = [
        (inspections_for(w.regulator).order_by("-period_end", "unit", "id")[:PER_PAGE], "insp_list_idx"),
        (inspections_for(w.officer).order_by("-period_end", "unit", "id")[:PER_PAGE], "insp_broker_list_idx"),
        (findings_for(w.regulator)[:PER_PAGE], "finding_list_idx"),
        (findings_for(w.officer)[:PER_PAGE], "finding_broker_list_idx"),
        (AuditEvent.objects.filter(organisation_id=w.a.pk)[:PER_PAGE], "audit_broker_list_idx"),
    ]
    for qs, index in cases:
        plan = _plan(qs)
        assert index in plan, (index, plan)
        assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort" not in plan.split(index)[0], plan


def _chart(html: str, name: str) -> dict:
    import json

    raw = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)[1]
    return json.loads(json.loads(raw))


def test_remembered_charts_follow_the_data_and_the_language(world):
    """The charts are remembered per (chart, language, numbers): new findings redraw them, and the other
    language gets its own titles."""
    w = world
    c = login_client(Client(), w.regulator)
    add_inspections(w.a, 2, officer=w.officer, deficient_every=1)
    before = _chart(c.get("/regulator/").content.decode(), "map-data")
    points = {n: y for tr in before["data"] for n, y in zip(tr["text"], tr["y"], strict=True)}
    assert points["Broker A"] == 6.0  # two medium findings, 3 points each
    add_inspections(w.a, 1, officer=w.officer, deficient_every=1)
    after = _chart(c.get("/regulator/").content.decode(), "map-data")
    assert {n: y for tr in after["data"] for n, y in zip(tr["text"], tr["y"], strict=True)}["Broker A"] == 9.0
    bar = _chart(login_client(Client(), w.officer).get("/dashboard/").content.decode(), "bar-data")
    c_zh = login_client(Client(), w.officer)
    c_zh.cookies["django_language"] = "zh-hant"
    bar_zh = _chart(c_zh.get("/dashboard/").content.decode(), "bar-data")
    assert bar["data"] == bar_zh["data"]
    assert bar["layout"]["title"]["text"] == "Open findings by chapter"
    assert bar_zh["layout"]["title"]["text"] == "各章節未結案缺失"
