"""Evidence uploads: empty, too large, wrong type by content, names with path characters; evidence is
never altered, a new version is a new record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.evidence import UploadError, path_of, safe_name
from ccinspect.web.inspections.models import Evidence, EvidenceError

from .conftest import login_client

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100


@pytest.fixture
def item(world):
    return world.insp_a.items.filter(assessable=True).first()


def _upload(client, w, item, name, data):
    return client.post(f"/inspections/{w.insp_a.pk}/items/{item.pk}/evidence/",
                       {"file": SimpleUploadedFile(name, data), "note": "n"}, HTTP_HX_REQUEST="true")


def test_upload_records_hash_size_type_uploader_and_time(world, item, client):
    login_client(client, world.officer)
    resp = _upload(client, world, item, "policy.pdf", PDF)
    assert resp.status_code == 200 and "policy.pdf" in resp.content.decode()
    ev = Evidence.objects.get(item=item)
    assert ev.sha256 == hashlib.sha256(PDF).hexdigest() and ev.size == len(PDF)
    assert ev.content_type == "application/pdf" and ev.uploaded_by == world.officer and ev.uploaded_at
    stored = path_of(ev)
    assert stored.read_bytes() == PDF and Path(settings.MEDIA_ROOT).resolve() in stored.parents
    assert stored.stat().st_mode & 0o222 == 0, "stored read-only"
    dl = client.get(f"/evidence/{ev.pk}/download/")
    assert dl.status_code == 200 and b"".join(dl.streaming_content) == PDF
    assert 'filename="policy.pdf"' in dl["Content-Disposition"]


@pytest.mark.parametrize("name, data, message", [
    ("empty.txt", b"", "empty"),
    ("big.txt", b"a" * (64 * 1024 + 1), "larger than"),
    ("report.pdf", EXE, "not an accepted"),
    ("tool.exe", EXE, "not an accepted"),
    ("script.sh", b"#!/bin/sh\nrm -rf /\n", "not an accepted"),
    ("photo.png", PDF, "named .png but its content is application/pdf"),
    ("notes.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "named .txt"),
    ("page.html", b"<script>alert(1)</script>", "not accepted"),
])
def test_bad_files_are_refused_with_a_clear_message(world, item, client, name, data, message):
    login_client(client, world.officer)
    resp = _upload(client, world, item, name, data)
    assert message in resp.content.decode()
    assert not Evidence.objects.exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*")) or not [p for p in Path(settings.MEDIA_ROOT).rglob("*")
                                                                 if p.is_file()]


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/證據.txt", "證據.txt"),
    ("a\x00b\n.txt", "ab.txt"),
    ("....", "evidence"),
])
def test_names_with_path_characters_are_reduced_to_a_safe_name(world, item, name, expected):
    assert safe_name(name) == expected
    ev = svc.add_evidence(world.officer, item, name=name, data=b"plain text\n")
    assert ev.original_name == expected and "/" not in ev.original_name and "\\" not in ev.original_name
    assert Path(settings.MEDIA_ROOT).resolve() in path_of(ev).parents


def test_evidence_is_never_altered_and_versions_are_new_records(world, item):
    ev = svc.add_evidence(world.officer, item, name="a.txt", data=b"v1\n")
    ev.note = "changed"
    with pytest.raises(EvidenceError):
        ev.save()
    with pytest.raises(EvidenceError):
        Evidence.objects.filter(pk=ev.pk).update(note="x")
    with pytest.raises(EvidenceError):
        ev.delete()
    with pytest.raises(EvidenceError):
        Evidence.objects.all().delete()
    v2 = svc.add_evidence(world.officer, item, name="a.txt", data=b"v2\n", supersedes=ev)
    assert v2.pk != ev.pk and v2.supersedes == ev and v2.sha256 != ev.sha256
    ev.refresh_from_db()
    assert path_of(ev).read_bytes() == b"v1\n"
    other = world.insp_a.items.filter(assessable=True)[1]
    with pytest.raises(svc.ServiceError, match="same checklist item"):
        svc.add_evidence(world.officer, other, name="b.txt", data=b"x\n", supersedes=ev)


def test_failed_record_leaves_no_file(world, item, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("database down")

    monkeypatch.setattr(Evidence.objects, "create", boom)
    with pytest.raises(RuntimeError):
        svc.add_evidence(world.officer, item, name="x.txt", data=b"unique content 123\n")
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_evidence_limits_also_apply_to_the_api(world, item, client):
    from .conftest import token_for

    api = type(client)(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    resp = api.post(f"/api/items/{item.pk}/evidence", {"file": SimpleUploadedFile("x.pdf", EXE)})
    assert resp.status_code == 400 and "not an accepted" in resp.json()["detail"]
    ok = api.post(f"/api/items/{item.pk}/evidence", {"file": SimpleUploadedFile("x.pdf", PDF)})
    assert ok.status_code == 201 and ok.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    with pytest.raises(UploadError):
        from ccinspect.web.inspections.evidence import classify

        classify("x.txt", b"")
    assert connection.vendor in ("sqlite", "postgresql")


# ---- hostile uploads, through the page form and the API (issue 10) ------------------------------------------

import functools  # noqa: E402

from hypothesis import HealthCheck, event, given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ccinspect.web.accounts.models import AuditEvent  # noqa: E402
from ccinspect.web.inspections.uploads import max_body  # noqa: E402

from . import hostile as h  # noqa: E402
from .conftest import token_for  # noqa: E402

GIB = 1024 * h.MIB


@functools.cache
def _bombs():
    return {"zip": h.bomb(GIB), "xlsx": h.xlsx_bomb(3 * GIB), "lying": h.bomb(512 * h.MIB, declared=4096)}


def _nothing_stored():
    assert not Evidence.objects.exists()
    assert h.files_under(settings.MEDIA_ROOT) == [], "no file, and no temporary file, in the evidence store"
    assert not AuditEvent.objects.filter(model="inspections.Evidence").exists()


def _via(channel, client, world, item, name, data):
    """(status, message) of one upload through the page (htmx partial) or the API."""
    if channel == "page":
        login_client(client, world.officer)
        resp = _upload(client, world, item, name, data)
        body = resp.content.decode()
        error = body.split('role="alert">', 1)[1].split("</p>", 1)[0] if 'role="alert"' in body else ""
        return resp.status_code, error
    api = type(client)(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
    resp = api.post(f"/api/items/{item.pk}/evidence", {"file": SimpleUploadedFile(name, data)})
    return resp.status_code, resp.json().get("detail", "") if resp.status_code != 201 else ""


HOSTILE = [
    ("just-over.txt", lambda: b"a" * (64 * 1024 + 1), "larger than the limit of 0.0625 MB"),
    ("empty.pdf", lambda: b"", "the file is empty"),
    ("report.pdf", lambda: h.ELF, "is not an accepted evidence type"),
    ("report.pdf", lambda: h.PE, "is not an accepted evidence type"),
    ("setup.exe", lambda: h.PE, "is not an accepted evidence type"),
    ("notes.pdf", lambda: b"<html><script>alert(1)</script></html>", "HTML, SVG or XSLT document"),
    ("page.html", lambda: b"<!DOCTYPE html><p>hi", "HTML, SVG or XSLT document"),
    ("chart.xml", lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     "HTML, SVG or XSLT document"),
    ("log.txt", lambda: b"  <!-- x -->\n<svg:svg xmlns:svg='http://www.w3.org/2000/svg'><script/></svg:svg>",
     "HTML, SVG or XSLT document"),
    ("data.xml", lambda: b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="x.xsl"?><a/>',
     "HTML, SVG or XSLT document"),
    ("policy.pdf", lambda: h.pdf_with(b"/JavaScript /JS (app.alert(1))"), "active content (/JavaScript)"),
    ("policy.pdf", lambda: h.pdf_with(b"/#4Aava#53cript /JS (x)"), "active content (/JavaScript)"),
    ("policy.pdf", lambda: h.pdf_with(b"/Launch /F (cmd.exe)", compressed=True), "active content (/Launch)"),
    ("register.xlsx", lambda: b"id,name\n1,not a workbook\n", "named .xlsx but its content is text/plain"),
    ("register.xlsx", lambda: h.zip_of([("a.txt", b"x")]), "is not an Office document"),
    ("macro.docx", lambda: h.zip_of([("[Content_Types].xml", h.CONTENT_TYPES), ("word/vbaProject.bin", b"x")]),
     "contains an executable or a script (word/vbaProject.bin)"),
    ("tools.zip", lambda: h.zip_of([("readme.txt", b"x"), ("bin/run.exe", h.PE)]),
     "contains an executable or a script (bin/run.exe)"),
    ("tools.zip", lambda: h.zip_of([("payload.dat", h.ELF)]), "contains an executable or a script"),
    ("slip.zip", lambda: h.zip_of([("../../etc/cron.d/x", b"x")]), "points outside the archive"),
    ("secret.zip", lambda: h.encrypted_flag(h.zip_of([("a.txt", b"x")])), "encrypted"),
    ("nested.zip", lambda: h.nested(3), "archives nested more than 2 levels deep"),
    ("damaged.zip", lambda: h.zip_of([("a.txt", b"x" * 100)])[:-30], "damaged or not a ZIP archive"),
]


@pytest.mark.parametrize("channel", ["page", "api"])
@pytest.mark.parametrize("name, make, message", HOSTILE, ids=[f"{n}-{i}" for i, (n, _m, _e) in enumerate(HOSTILE)])
def test_hostile_files_are_refused_and_nothing_is_stored(world, item, client, channel, name, make, message):
    status, error = _via(channel, client, world, item, name, make())
    assert message in error, error
    assert status == (200 if channel == "page" else 400)
    _nothing_stored()


BOMBS = [
    ("bomb.zip", "zip", "expands to more than 256 MB (a zip bomb?)"),
    ("book.xlsx", "xlsx", "expands to more than 256 MB (a zip bomb?)"),
    ("lying.zip", "lying", "damaged or not a ZIP archive"),  # a size header that lies fails the CRC
]


@pytest.mark.parametrize("channel", ["page", "api"])
@pytest.mark.parametrize("name, which, message", BOMBS)
def test_zip_bombs_are_refused_before_they_are_inflated(world, item, client, settings, channel, name, which,
                                                        message):
    settings.EVIDENCE_MAX_BYTES = 8 * h.MIB
    data = _bombs()[which]
    assert len(data) < 4 * h.MIB  # small on the wire, GBs inflated
    status, error = _via(channel, client, world, item, name, data)
    assert message in error, error
    _nothing_stored()


@pytest.mark.parametrize("channel", ["page", "api"])
def test_crowded_and_deeply_nested_archives_are_refused(world, item, client, settings, channel):
    settings.EVIDENCE_MAX_BYTES = 8 * h.MIB
    status, error = _via(channel, client, world, item, "many.zip", h.crowded(10_001))
    assert "more than 10000 members" in error
    settings.EVIDENCE_ZIP_MAX_UNZIPPED_BYTES = 8 * h.MIB  # a nested bomb shares the budget of the outer one
    inner = h.bomb(16 * h.MIB)
    status, error = _via(channel, client, world, item, "russian.zip", h.zip_of([("inner.zip", inner)]))
    assert "expands to more than 8 MB" in error, error
    _nothing_stored()


@pytest.mark.parametrize("channel", ["page", "api"])
def test_archives_and_documents_within_the_limits_are_stored(world, item, client, channel):
    docx = h.zip_of([("[Content_Types].xml", h.CONTENT_TYPES), ("word/document.xml", b"<w:document/>" * 50)])
    for name, data, mime in [("logs.zip", h.nested(2), "application/zip"), ("memo.docx", docx, "application/zip"),
                             ("scan.pdf", h.pdf_with(b"/GoTo /D [0]"), "application/pdf"),
                             # image bytes that happen to spell /JS are not a script (found by the crash test)
                             ("photo.pdf", b"%PDF-1.7\n1 0 obj << /Subtype /Image /Length 12 >>\nstream\n\x00/JS "
                              b"/Launch\xff\nendstream\nendobj\n%%EOF\n", "application/pdf"),
                             ("waf.log", b"GET /?q=<script>alert(1)</script> 403\n", "text/plain"),
                             ("shot.png", h.PNG, "image/png")]:
        status, error = _via(channel, client, world, item, name, data)
        assert error == "" and status in (200, 201), (name, error)
        ev = Evidence.objects.get(sha256=hashlib.sha256(data).hexdigest())
        assert ev.content_type == mime and path_of(ev).read_bytes() == data


class Tripwire:
    """A request body that fails the test if anything reads it."""

    read_count = 0

    def read(self, *a):
        Tripwire.read_count += 1
        raise AssertionError("the body of an oversize request was read")

    readline = read


@pytest.mark.parametrize("path", ["page", "api", "import"])
def test_a_body_far_over_the_limit_is_refused_unread(world, item, client, path):
    login_client(client, world.officer)
    url = {"page": f"/inspections/{world.insp_a.pk}/items/{item.pk}/evidence/",
           "api": f"/api/items/{item.pk}/evidence", "import": "/continuity/import/"}[path]
    huge = 10 * GIB
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token_for(world.officer)}"} if path == "api" else {}
    Tripwire.read_count = 0
    resp = client.generic("POST", url, b"x", content_type="multipart/form-data; boundary=x",
                          CONTENT_LENGTH=str(huge), **{"wsgi.input": Tripwire()}, **extra)
    assert resp.status_code == 413 and Tripwire.read_count == 0
    text = resp.json()["detail"] if path == "api" else resp.content.decode()
    assert "larger than the limit of 0.0625 MB; nothing was stored" in text
    _nothing_stored()
    # just within the envelope: parsed as usual, and the file itself is then refused for its size
    data = b"a" * (max_body() - 4096)
    assert _via("api", client, world, item, "big.txt", data)[1].startswith("the file is larger than the limit")


def test_the_refusal_is_translated(world, item, client, settings):
    settings.LANGUAGE_CODE = "zh-hant"
    login_client(client, world.officer)
    status, error = _via("page", client, world, item, "report.pdf", h.ELF)
    assert "不是可接受的佐證檔案類型" in error, error
    resp = client.generic("POST", f"/inspections/{world.insp_a.pk}/items/{item.pk}/evidence/", b"x",
                          content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(GIB))
    assert resp.status_code == 413 and "上限" in resp.content.decode()


@pytest.mark.parametrize("name, expected", [
    ("\u202etxt.exe", "txt.exe"),  # right-to-left override: shown as exe.txt, really .exe
    ("report\u200b.pdf", "report.pdf"),
    ("C:\\Users\\x\\Desktop\\報告.pdf", "報告.pdf"),
    ("/etc/../../x.txt", "x.txt"),
    ("a" * 300 + ".txt", "a" * 196 + ".txt"),
    ("a." + "b" * 300, ("a." + "b" * 300)[:200]),
    ("\ud800bad.txt", "?bad.txt"),
    (" . .hidden.txt", "hidden.txt"),
])
def test_safe_name_edge_cases(name, expected):
    assert safe_name(name) == expected and len(safe_name(name)) <= 200


def _names():
    raw = st.binary(max_size=300)
    text = st.text(max_size=260).map(lambda s: s.encode("utf-8", "surrogatepass"))
    tricky = st.sampled_from([b"../../x.pdf", b"/etc/passwd", b"..\\..\\win.ini", b"a\x00b.txt", b"\xe2\x80\xaetxt.exe",
                              b"C:\\x\\y.txt", b"", b".", b"..", b"a" * 400 + b".txt", b"x.txt\r\nX-Evil: 1"])
    return st.one_of(tricky, raw, text, st.tuples(tricky, raw).map(lambda t: t[0] + t[1]))


def _contents():
    heads = st.sampled_from([b"", h.PDF, b"%PDF-", b"PK\x03\x04", h.PNG, b"\xff\xd8\xff", b"GIF89a", h.PE, h.ELF,
                             b"<svg>", b"<html>", b"#!/bin/sh\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"ElfFile\x00",
                             b"plain text\n", h.zip_of([("a.txt", b"hello")])])
    return st.tuples(heads, st.binary(max_size=600)).map(lambda t: t[0] + t[1])


def _matched():
    """A name whose extension fits the content, after any name bytes: the cases that should be stored."""
    kinds = st.sampled_from([(b".txt", b""), (b".log", b""), (b".pdf", h.PDF), (b".png", h.PNG), (b".gif", b"GIF89a"),
                             (b".zip", h.zip_of([("a.txt", b"hello")])), (b"", b"")])
    tails = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                    max_size=200).map(lambda t: t.encode())
    return st.tuples(_names(), kinds, tails).map(lambda t: (t[0] + t[1][0], t[1][1] + t[2]))


@hsettings(max_examples=80, derandomize=True, database=None, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pair=st.one_of(st.tuples(_names(), _contents()), _matched()), api=st.booleans())
def test_any_name_and_content_is_stored_safely_or_refused_cleanly(world, item, client, pair, api):
    """Raw multipart bodies (the name as any bytes): stored under MEDIA_ROOT with a safe name and the right
    SHA-256, or refused with a message and nothing stored. Never a server error."""
    name, content = pair
    before_ids = set(Evidence.objects.values_list("pk", flat=True))
    before_files = h.files_under(settings.MEDIA_ROOT)
    body, ctype = h.multipart({"note": "n"}, "file", name, content)
    if api:
        c = type(client)(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}")
        resp = c.generic("POST", f"/api/items/{item.pk}/evidence", body, content_type=ctype)
        assert resp.status_code in (201, 400, 422), resp.content[:300]
        refused = resp.status_code != 201
        message = "" if not refused else str(resp.json().get("detail", ""))
    else:
        login_client(client, world.officer)
        resp = client.generic("POST", f"/inspections/{world.insp_a.pk}/items/{item.pk}/evidence/", body,
                              content_type=ctype, HTTP_HX_REQUEST="true")
        assert resp.status_code == 200
        text = resp.content.decode()
        refused = 'role="alert"' in text
        message = text.split('role="alert">', 1)[1].split("</p>")[0] if refused else ""
    new = Evidence.objects.exclude(pk__in=before_ids)
    if refused:
        event("refused")
        assert message.strip(), "a refusal says why"
        assert not new.exists() and h.files_under(settings.MEDIA_ROOT) == before_files
        return
    event("stored")
    ev = new.get()
    assert ev.sha256 == hashlib.sha256(content).hexdigest() and ev.size == len(content)
    stored = path_of(ev)
    assert stored.read_bytes() == content and Path(settings.MEDIA_ROOT).resolve() in stored.parents
    n = ev.original_name
    assert n and len(n) <= 200 and "/" not in n and "\\" not in n and not n.startswith(".")
    assert all(not (0xD800 <= ord(c) <= 0xDFFF) and ord(c) >= 0x20 and c not in "\u202e\u200b\x7f" for c in n)
    assert not [p for p in h.files_under(settings.MEDIA_ROOT) if p.name.startswith(".upload-")]


# ---- legacy Office (OLE) files: macros refused like an OOXML file's vbaProject.bin ---------------------

from ccinspect.web.inspections.evidence import classify  # noqa: E402

from .cfb import compound_file  # noqa: E402


@pytest.mark.parametrize(("name", "streams", "storage"), [
    ("minutes.doc", {"WordDocument": b"Word", "Macros/VBA/dir": b"vba", "Macros/PROJECT": b"ID="}, "Macros"),
    ("ledger.xls", {"Workbook": b"BIFF", "_VBA_PROJECT_CUR/VBA/dir": b"vba", "_VBA_PROJECT_CUR/PROJECT": b"ID="},
     "_VBA_PROJECT_CUR"),
])
def test_legacy_office_file_with_macros_is_refused(name, streams, storage):
    with pytest.raises(UploadError, match=f"contains macros \\({storage}\\)"):
        classify(name, compound_file(streams))


def test_legacy_office_file_without_macros_is_accepted():
    data = compound_file({"WordDocument": b"Word", "\x05SummaryInformation": b"summary", "1Table": b"table"})
    assert classify("policy.doc", data) == ("policy.doc", "application/x-ole-storage")


@pytest.mark.parametrize("damage", ["short", "directory"])
def test_damaged_legacy_office_file_is_refused(damage):
    data = compound_file({"WordDocument": b"Word"})
    # Only the first sectors; or the header's first directory sector pointing past the end of the file.
    data = data[:1024] if damage == "short" else data[:48] + (0x7FFFFF).to_bytes(4, "little") + data[52:]
    with pytest.raises(UploadError, match="is damaged: its OLE"):
        classify("policy.doc", data)


def test_macro_refusal_is_translated():
    from django.utils import translation  # noqa: PLC0415

    data = compound_file({"WordDocument": b"Word", "Macros/VBA/dir": b"vba"})
    with translation.override("zh-hant"), pytest.raises(UploadError, match="含有巨集（Macros）"):
        classify("minutes.doc", data)


@pytest.mark.parametrize("name, data", [
    ("帳號清單.csv", "user,name\nalice,陳文德\n".encode("cp950")),  # Excel's "CSV" on Chinese Windows
    ("events.csv", "\ufeffId,Message\n4625,登入失敗\n".encode("utf-16-le")),  # PowerShell 5.1 -Encoding Unicode
    ("events2.csv", "Id,Message\n4625,登入失敗\n".encode("utf-16-le")),  # UTF-16 without a mark
    ("report.csv", "\ufeffuser,name\nalice,陳文德\n".encode("utf-8")),
])
def test_text_in_every_encoding_core_textfile_reads_is_accepted(world, item, client, name, data):
    status, error = _via("page", client, world, item, name, data)
    assert error == "" and status == 200
    ev = Evidence.objects.get(original_name=name)
    assert ev.content_type == "text/plain" and path_of(ev).read_bytes() == data


def test_markup_in_utf16_is_still_refused(world, item, client):
    data = "\ufeff<html><script>alert(1)</script></html>".encode("utf-16-le")
    assert "HTML, SVG or XSLT" in _via("page", client, world, item, "notes.txt", data)[1]


def test_partial_results_from_inspect_are_imported():
    import json

    rows = svc.parse_results(json.dumps({"requirements": [
        {"ref_id": "CC-19000.9", "status": "partial", "summary": "could not use vulnscan/reports/x.xml"}]}))
    assert rows[0]["status"] == "partial"
