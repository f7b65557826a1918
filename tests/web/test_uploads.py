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
