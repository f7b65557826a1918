"""Property tests of every web import (issue 10): the continuity register's XLSX import (page) and the
automated results import (page upload and API). Arbitrary workbooks (random sheets, headers, cell types,
dates, numbers, formulas, huge strings, empty rows, merged cells), damaged workbook XML, arbitrary bytes and
arbitrary JSON: each is imported, or refused with a clear error naming where (sheet/row/column, result/field),
and a refused import changes nothing (rows, audit trail, evidence files). Deterministic: a fixed seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openpyxl import Workbook

from ccinspect.continuity import KINDS, Register, RegisterError, read_workbook
from ccinspect.web.accounts.models import AuditEvent
from ccinspect.web.continuity import services as csvc
from ccinspect.web.continuity.models import MODELS
from ccinspect.web.inspections.evidence import path_of
from ccinspect.web.inspections.models import ChecklistItem, Evidence

from . import hostile as h
from .conftest import login_client, token_for

FUZZ = hsettings(max_examples=70, derandomize=True, database=None, deadline=None, print_blob=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])


# ---- the continuity register ----------------------------------------------------------------------------

def _snapshot(org) -> dict:
    out = {kind: sorted(json.dumps(r.to_record(), default=str, sort_keys=True) for r in MODELS[kind].objects
                        .filter(organisation=org)) for kind in KINDS}
    out["audit"] = AuditEvent.objects.count()
    return out


SEED = Register.model_validate({
    "systems": [{"id": "S1", "name": "下單系統", "owner": "資訊部", "trading_host": True}],
    "impact_analyses": [{"id": "B1", "system": "S1", "date": "2025-01-10", "tolerable_minutes": 60,
                         "rto_minutes": 30, "rpo_minutes": 5, "approver": "總經理"}],
})

plain_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
huge_text = st.integers(201, 5000).map(lambda n: "長" * n)
cells = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(2**31, 10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.just(float("inf")),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    st.sampled_from(["", "S1", "S2", "bcp", "passed", "1", "113/06/30", "2025-02-30", "a; b", "TRUE", "-5",
                     "=1/0", "=SUM(A1:A3)", '=HYPERLINK("http://x","y")', "=NOW()", "#REF!"]),
    plain_text, huge_text)


def _valid_rows(draw) -> dict[str, list[list]]:
    n = draw(st.integers(0, 4))
    systems = [[f"S{i}", draw(st.sampled_from(["核心", "Trading", "x" * 5])), "資訊部", "下單; 交割",
                draw(st.booleans()), False, None, None] for i in range(1, n + 1)]
    bias = [[f"B{i}", f"S{i}", dt.date(2025, 1, i), 120, 60, 10, "總經理"] for i in range(1, n + 1)
            if draw(st.booleans())]
    drills = [[f"D{i}", "bcp", dt.date(2025, 3, i), "停電", f"S{i}", "", False, "", 60, 45, 10, 5, "passed", None,
               ""] for i in range(1, n + 1) if draw(st.booleans())]
    return {"systems": systems, "impact_analyses": bias, "drills": drills}


@st.composite
def workbooks(draw) -> bytes:
    """A workbook: the template's sheets with valid rows, then random damage (or random sheets outright)."""
    wb = Workbook()
    wb.remove(wb.active)
    if draw(st.booleans()):
        rows = _valid_rows(draw)
        names = list(KINDS)
        if draw(st.integers(0, 5)) == 0:
            names.remove(draw(st.sampled_from(names)))  # a sheet missing
        for kind in names:
            ws = wb.create_sheet(kind)
            ws.append(list(KINDS[kind][0].model_fields))
            for r in rows.get(kind, []):
                if draw(st.integers(0, 6)) == 0:
                    ws.append([])  # an empty row in between
                ws.append(r)
        for _ in range(draw(st.integers(0, 3))):  # damage: random cells anywhere
            ws = wb[draw(st.sampled_from(names))]
            ws.cell(draw(st.integers(1, 8)), draw(st.integers(1, 16)), draw(cells))
        if draw(st.integers(0, 4)) == 0:
            ws = wb[draw(st.sampled_from(names))]
            r, c = draw(st.integers(1, 5)), draw(st.integers(1, 6))
            ws.merge_cells(start_row=r, start_column=c, end_row=r + draw(st.integers(0, 2)),
                           end_column=c + draw(st.integers(1, 3)))
        if draw(st.integers(0, 5)) == 0:
            wb.create_sheet(draw(st.sampled_from(["README", "Sheet1", "備註"])))
    else:
        for name in draw(st.lists(st.sampled_from([*KINDS, "README", "other"]), min_size=1, max_size=9,
                                  unique=True)):
            ws = wb.create_sheet(name)
            if name in KINDS and draw(st.booleans()):
                ws.append(list(KINDS[name][0].model_fields))
            for r in draw(st.lists(st.lists(cells, max_size=10), max_size=5)):
                ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@st.composite
def damaged_xml(draw) -> bytes:
    """A valid workbook with one part's XML cut, spliced or sprinkled with bytes: what openpyxl parses lazily."""
    wb = Workbook()
    wb.remove(wb.active)
    for kind in KINDS:
        ws = wb.create_sheet(kind)
        ws.append(list(KINDS[kind][0].model_fields))
    wb["systems"].append(["S1", "下單", "資訊部"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    names = src.namelist()
    target = draw(st.sampled_from([n for n in names if n.endswith(".xml")]))
    data = src.read(target)
    how = draw(st.sampled_from(["cut", "splice", "insert", "cell"]))
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        data = data[:at]
    elif how == "splice":
        data = data[:at] + draw(st.binary(max_size=40)) + data[at + draw(st.integers(0, 40)):]
    elif how == "insert":
        data = data[:at] + draw(st.sampled_from([b"<", b"&#0;", b"]]>", b"\xff\xfe", b"<!ENTITY a 'b'>",
                                                 b'<c r="ZZZZZ9"><v>1</v></c>']))
    else:
        cell = draw(st.sampled_from([b'<c r="A2" t="s"><v>99</v></c>', b'<c r="A2" t="d"><v>notadate</v></c>',
                                     b'<c r="A2" s="99"><v>1</v></c>', b'<c r="A2" t="n"><v>1e999</v></c>',
                                     b'<c r="A2" t="inlineStr"><is><t>' + "長".encode() * 300 + b"</t></is></c>",
                                     b'<c r="XFD2"><v>1</v></c>', b'<c r="A2" t="b"><v>2</v></c>']))
        data = data.replace(b"</sheetData>", b"<row r=\"2\">" + cell + b"</row></sheetData>", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in names:
            zf.writestr(n, data if n == target else src.read(n))
    return out.getvalue()


raw_bytes = st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b),
                      st.sampled_from([h.xlsx_bomb(512 * h.MIB), h.nested(2), h.crowded(1200), b""]))


@pytest.fixture
def seeded(world):
    csvc.replace_register(world.officer, world.a, SEED, source="seed")
    return world


def _import(client, world, data: bytes, name: str):
    before = _snapshot(world.a)
    resp = client.post("/continuity/import/", {"file": SimpleUploadedFile(name, data)})
    assert resp.status_code in (302, 400), resp.status_code
    if resp.status_code == 302:
        event("imported")
        expected = read_workbook(io.BytesIO(data), source=name)  # what the library reads is what was stored
        stored = csvc.register_for(world.a)
        def records(reg):  # the tables have their own order (drills newest first)
            return {k: sorted(r.model_dump_json() for r in getattr(reg, k)) for k in KINDS}

        assert records(stored) == records(expected)
        return
    body = resp.content.decode()
    msgs = [str(m) for m in get_messages(resp.wsgi_request)]
    assert 'id="problems"' in body or msgs, "a refused import says why"
    if 'id="problems"' in body:
        event("refused: problems table")
        table = body.split('id="problems"', 1)[1]
        assert "nothing was imported" in table and "<td>" in table
        try:
            read_workbook(io.BytesIO(data), source=name, check=csvc._fits)
        except RegisterError as exc:
            assert all(p.source == name and p.message for p in exc.problems)
            located = [p for p in exc.problems if p.sheet or p.row or p.column]
            assert located or len(exc.problems) == 1  # a workbook-wide problem (not a workbook, a zip bomb)
    else:
        event("refused: message")
    assert _snapshot(world.a) == before, "a refused import changes nothing"


@FUZZ
@given(data=workbooks())
def test_continuity_import_random_workbooks(seeded, client, data):
    login_client(client, seeded.officer)
    _import(client, seeded, data, "register.xlsx")


@FUZZ
@given(data=damaged_xml())
def test_continuity_import_damaged_workbook_xml(seeded, client, data):
    login_client(client, seeded.officer)
    _import(client, seeded, data, "damaged.xlsx")


@FUZZ
@given(data=raw_bytes, name=st.sampled_from(["register.xlsx", "x.csv", "../../r.xlsx", ""]))
def test_continuity_import_arbitrary_bytes(seeded, client, data, name):
    login_client(client, seeded.officer)
    _import(client, seeded, data, name or "register.xlsx")


def test_continuity_import_values_the_database_cannot_hold_name_their_cell(seeded, client):
    """Found by the fuzzer: a 300-character name, a huge whole number, infinity passed the library's model
    and failed in the database (a 500 on PostgreSQL). Now each is a problem on its sheet, row and column."""
    login_client(client, seeded.officer)
    wb = Workbook()
    wb.remove(wb.active)
    for kind in KINDS:
        wb.create_sheet(kind).append(list(KINDS[kind][0].model_fields))
    wb["systems"].append(["S1", "名" * 300, "資訊部", "", False, False, "廠商", 10**12])
    wb["impact_analyses"].append(["B1", "S1", dt.date(2025, 1, 1), 12345.5, 1, 1, "x"])
    buf = io.BytesIO()
    wb.save(buf)
    src, out = zipfile.ZipFile(buf), io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:  # openpyxl writes no infinity; a hand-made workbook can
        for n in src.namelist():
            zf.writestr(n, src.read(n).replace(b"<v>12345.5</v>", b"<v>1e999</v>"))
    before = _snapshot(seeded.a)
    resp = client.post("/continuity/import/", {"file": SimpleUploadedFile("big.xlsx", out.getvalue())})
    body = resp.content.decode()
    assert resp.status_code == 400
    assert "<td>systems</td><td>2</td><td>B (name)</td><td>300 characters, at most 200 fit</td>" in body
    assert "<td>systems</td><td>2</td><td>H (provider_plan_months)</td><td>1000000000000 is out of range" in body
    assert "<td>impact_analyses</td><td>2</td><td>D (tolerable_minutes)</td><td>inf is not a finite number" in body
    assert _snapshot(seeded.a) == before


def test_continuity_import_refuses_a_bomb_and_an_oversize_file_with_a_message(seeded, client, settings):
    login_client(client, seeded.officer)
    before = _snapshot(seeded.a)
    resp = client.post("/continuity/import/", {"file": SimpleUploadedFile("r.xlsx", b"x" * (64 * 1024 + 1))})
    assert resp.status_code == 400 and "larger than the limit" in str(list(get_messages(resp.wsgi_request))[0])
    settings.EVIDENCE_MAX_BYTES = 8 * h.MIB
    resp = client.post("/continuity/import/", {"file": SimpleUploadedFile("r.xlsx", h.xlsx_bomb(2048 * h.MIB))})
    assert "expands to more than 128 MB (a zip bomb?)" in str(list(get_messages(resp.wsgi_request))[0])
    assert _snapshot(seeded.a) == before


# ---- automated check results (JSON), page upload and API ---------------------------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=8), st.sampled_from(["pass", "fail", "manual", "error", "CC-18000.1", "\x00"]))
json_any = st.recursive(json_leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c,
                                                                                       max_size=4), max_leaves=12)


@st.composite
def results(draw, refs: list[str]):
    """A results document: mostly the right shape, with refs of this inspection, then random damage."""
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        row = {"ref_id": draw(st.sampled_from([*refs, "CC-99999.9", ""])),
               "status": draw(st.sampled_from(["pass", "fail", "manual", "error", "PASS", None, ["pass"]])),
               "summary": draw(st.text(max_size=30)),
               "evidence": draw(st.lists(st.fixed_dictionaries({"path": st.text(max_size=10),
                                                                 "sha256": st.sampled_from(["0" * 64, "xyz"])}),
                                         max_size=2)),
               "facts": draw(st.lists(json_any, max_size=2))}
        for _ in range(draw(st.integers(0, 2))):
            row[draw(st.sampled_from(["status", "evidence", "facts", "ref_id", "extra"]))] = draw(json_any)
        rows.append(row)
    shape = draw(st.sampled_from(["list", "requirements", "results", "alerts", "any"]))
    if shape == "any":
        return draw(json_any)
    if shape == "alerts":
        return {"alerts": [{"ref_ids": draw(st.sampled_from([[refs[0]], [], "x", [1]])), "kind": "burst"}
                           for _ in range(draw(st.integers(0, 2)))],
                "inputs": draw(st.sampled_from([[], [{"file": "a.log", "sha256": "0" * 64}], 5, "x"])),
                "review_ref_ids": draw(st.sampled_from([[], refs[:1], 3, {"a": 1}]))}
    return rows if shape == "list" else {shape: rows}


def _results_snapshot(insp) -> tuple:
    return (sorted(Evidence.objects.values_list("pk", flat=True)), AuditEvent.objects.count(),
            sorted(ChecklistItem.objects.filter(inspection=insp).values_list("pk", "automated_status")),
            h.files_under(settings.MEDIA_ROOT))


def _check_results(world, before, ok: bool, message: str, attached: int | None):
    if not ok:
        event("refused")
        assert message.strip(), "a refused import says why"
        assert _results_snapshot(world.insp_a) == before, "a refused import changes nothing"
        return
    event("imported")
    new = Evidence.objects.exclude(pk__in=before[0])
    if attached is not None:
        assert new.count() == attached
    for e in new:
        assert hashlib.sha256(path_of(e).read_bytes()).hexdigest() == e.sha256
        assert e.kind == Evidence.AUTOMATED and json.loads(path_of(e).read_bytes())["ref_id"] == e.item.ref_id


def _raw_text(draw_doc, raw_choice):
    return raw_choice if raw_choice is not None else json.dumps(draw_doc).encode()


RAW = st.one_of(st.none(), st.sampled_from([b'[{"ref_id":"CC-18000.1","status":"pass","x":NaN}]', b"[" * 5000,
                                            b'{"results":[{"ref_id":"a\\u0000","status":"pass"}]}', b"\xff\xfe",
                                            b'[{"ref_id":"CC-18000.1","status":"pass","summary":"' + b"x" * 70000
                                            + b'"}]', b""]), st.binary(max_size=100))


@FUZZ
@given(data=st.data())
def test_results_import_page_random_documents(world, client, data):
    refs = list(world.insp_a.items.filter(assessable=True).values_list("ref_id", flat=True)[:3])
    raw = _raw_text(data.draw(results(refs)), data.draw(RAW))
    client = login_client(type(client)(), world.officer)  # a fresh one: no messages left from other examples
    before = _results_snapshot(world.insp_a)
    resp = client.post(f"/inspections/{world.insp_a.pk}/import/", {"file": SimpleUploadedFile("results.json", raw)})
    assert resp.status_code == 302
    msgs = list(get_messages(resp.wsgi_request))
    assert len(msgs) == 1
    ok = msgs[0].level_tag == "success"
    _check_results(world, before, ok, str(msgs[0]), None)


@FUZZ
@given(data=st.data())
def test_results_import_api_random_documents(world, client, data):
    refs = list(world.insp_a.items.filter(assessable=True).values_list("ref_id", flat=True)[:3])
    doc = data.draw(results(refs))
    body = data.draw(st.one_of(st.just({"results": doc}), st.just(doc) if isinstance(doc, dict) else st.nothing(),
                               st.just({"source": "x", "results": doc, "alerts": doc})))
    api = type(client)(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    before = _results_snapshot(world.insp_a)
    resp = api.post(f"/api/inspections/{world.insp_a.pk}/results", json.dumps(body), content_type="application/json")
    assert resp.status_code in (200, 400, 422), resp.content[:300]
    out = resp.json()
    ok = resp.status_code == 200
    _check_results(world, before, ok, "" if ok else json.dumps(out.get("detail")), len(out["attached"]) if ok else 0)


def test_results_import_too_large_a_row_writes_nothing(world, client):
    """Found by the fuzzer: a row over the evidence limit was refused after earlier rows had written their
    files, leaving orphans once the transaction rolled back. Every payload is now checked first, and the
    files are written after every row."""
    refs = list(world.insp_a.items.filter(assessable=True).values_list("ref_id", flat=True)[:2])
    rows = [{"ref_id": refs[0], "status": "pass"}, {"ref_id": refs[1], "status": "fail", "summary": "x" * 70000}]
    api = type(client)(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    before = _results_snapshot(world.insp_a)
    resp = api.post(f"/api/inspections/{world.insp_a.pk}/results", {"results": rows}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["detail"].startswith(f"result 2 ({refs[1]}):")
    assert _results_snapshot(world.insp_a) == before
