"""Evidence and audit rows cannot be changed in the database, and when they are (by someone who lifted the
triggers), `ccinspect verify` says so, keeps the files the audit trail names, and checks the chain head
against the anchor file the application wrote outside the database (issue 20). Runs on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.evidence import path_of
from ccinspect.web.inspections.models import Evidence

from .conftest import deficient_with_finding
from .test_integrity import _ids, _lift_triggers, _rewrite_chain_from

runner = CliRunner()


def _verify(*args):
    result = runner.invoke(app, ["verify", "--json", *args])
    out = result.stdout
    return result.exit_code, json.loads(out[out.index("{"):])


@pytest.mark.parametrize("sql", [
    "UPDATE inspections_evidence SET sha256 = 'f' WHERE id = %s",
    "DELETE FROM inspections_evidence WHERE id = %s",
    "UPDATE accounts_auditevent SET object_repr = 'x' WHERE id = %s",
    "DELETE FROM accounts_auditevent WHERE id = %s",
])
def test_the_database_refuses_updates_and_deletes(world, sql):
    _item, ev, _f = deficient_with_finding(world)
    target = ev.pk if "evidence" in sql else _ids()[3]
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, [target])
    assert Evidence.objects.filter(pk=ev.pk, sha256=ev.sha256).exists()


def test_another_program_cannot_delete_from_an_sqlite_file(world, tmp_path):
    """The sqlite3 shell or a script lacks the application's maintenance function: its DELETE fails too."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's triggers refuse whoever asks")
    deficient_with_finding(world)
    tables = ("inspections_evidence", "accounts_auditevent")
    with connection.cursor() as cur:  # the migrated tables and triggers, as the database holds them
        cur.execute("SELECT type, sql FROM sqlite_master WHERE tbl_name IN (%s, %s) AND sql IS NOT NULL", tables)
        schema = sorted(cur.fetchall(), key=lambda r: r[0] != "table")
    assert sum(1 for kind, _ in schema if kind == "trigger") == 4
    raw = sqlite3.connect(tmp_path / "copy.sqlite3")
    for _kind, sql in schema:
        raw.execute(sql)
    raw.execute("INSERT INTO accounts_auditevent (at, action, model, object_id, object_repr, changes, actor_username,"
                " actor_name, actor_title, actor_role, prev_hash, hash) VALUES ('2025-01-01', 'x', 'm', '1', '', '{}',"
                " '', '', '', '', '', '')")
    raw.execute("INSERT INTO inspections_evidence (organisation_id, kind, original_name, stored_path, sha256, size, "
                "content_type, uploaded_by_id, uploaded_at, note, metadata) VALUES (1, 'upload', 'a', 'b', 'c', 1, "
                "'text/plain', 1, '2025-01-01', '', '{}')")
    raw.commit()
    for sql in ("DELETE FROM inspections_evidence", "DELETE FROM accounts_auditevent"):
        with pytest.raises(sqlite3.OperationalError, match="ccinspect_maintenance"):
            raw.execute(sql)
    with pytest.raises(sqlite3.IntegrityError, match="read-only"):
        raw.execute("UPDATE inspections_evidence SET sha256 = 'f'")
    raw.close()


def test_a_swapped_evidence_row_is_reported_and_its_file_kept(world):
    """The attack of issue 20: the row's sha256 and stored_path pointed at a forged file."""
    _item, ev, _f = deficient_with_finding(world)
    assert _verify()[0] == 0
    original = path_of(ev)
    forged = b"a forged evidence file\n"
    sha = hashlib.sha256(forged).hexdigest()
    rel = f"{sha[:2]}/{sha}"
    (settings.MEDIA_ROOT / sha[:2]).mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / rel).write_bytes(forged)
    _lift_triggers("inspections_evidence")
    with connection.cursor() as cur:
        cur.execute("UPDATE inspections_evidence SET sha256 = %s, stored_path = %s WHERE id = %s", [sha, rel, ev.pk])
    code, report = _verify("--grace-minutes", "0")
    assert code == 1
    (problem,) = report["problems"]
    assert problem["kind"] == "evidence-changed" and problem["id"] == ev.pk
    assert f"sha256 is '{sha}', recorded '{ev.sha256}'" in problem["message"]
    assert f"stored_path is '{rel}'" in problem["message"]
    # the original file is named by the audit trail: not an orphan, never swept, moved to quarantine
    assert report["orphans"] == [] and [q["file"] for q in report["quarantined"]] == [ev.stored_path]
    code, report = _verify("--grace-minutes", "0", "--sweep-orphans")
    (q,) = report["quarantined"]
    assert not original.exists() and report["swept"] == []
    moved = settings.EVIDENCE_QUARANTINE / ev.stored_path
    assert q["moved_to"] == str(moved) and hashlib.sha256(moved.read_bytes()).hexdigest() == ev.sha256


def test_deleted_and_added_evidence_rows_are_reported(world):
    _item, ev, _f = deficient_with_finding(world)
    item2 = world.insp_a.items.filter(assessable=True).exclude(pk=ev.item_id).first()
    ev2 = svc.add_evidence(world.officer, item2, name="other.txt", data=b"another file\n")
    _lift_triggers("inspections_evidence")
    cols = [f.column for f in Evidence._meta.concrete_fields if f.column != "id"]
    row = dict(Evidence.objects.filter(pk=ev2.pk).values(*[f.attname for f in Evidence._meta.concrete_fields]).get())
    row["metadata"] = json.dumps(row["metadata"])
    with connection.cursor() as cur:
        cur.execute("DELETE FROM inspections_evidence WHERE id = %s", [ev.pk])
        cur.execute(f"INSERT INTO inspections_evidence ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                    [row[f.attname] for f in Evidence._meta.concrete_fields if f.column != "id"])
    added = Evidence.objects.order_by("-id").values_list("id", flat=True).first()
    code, report = _verify("--grace-minutes", "0")
    assert code == 1
    kinds = {(p["kind"], p["id"]) for p in report["problems"]}
    assert kinds == {("evidence-deleted", ev.pk), ("evidence-added", added)}
    deleted = next(p for p in report["problems"] if p["kind"] == "evidence-deleted")["message"]
    assert ev.sha256 in deleted and "proof.txt" in deleted
    assert [q["file"] for q in report["quarantined"]] == [ev.stored_path] and report["orphans"] == []
    text = runner.invoke(app, ["verify"]).output
    assert "deleted outside the application" in text and "added outside the application" in text


def test_the_anchor_is_written_and_checked_without_being_asked(world):
    """`ccinspect anchor` (scheduled daily) writes the head to CCINSPECT_ANCHOR_FILE; a plain `verify` checks
    it: a full rewrite of the trail is caught without anyone naming the file."""
    deficient_with_finding(world)
    anchors = settings.AUDIT_ANCHOR_FILE
    result = runner.invoke(app, ["anchor"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in anchors.read_text().splitlines() if not ln.startswith("#")]
    assert len(lines) == 1 and lines[0].split()[1] == AuditHead.get()[1]
    victim = _ids()[1]
    _lift_triggers("accounts_auditevent")
    with connection.cursor() as cur:
        cur.execute("UPDATE accounts_auditevent SET object_repr = %s WHERE id = %s", ["nothing to see", victim])
    _rewrite_chain_from(victim)
    code, report = _verify("--no-evidence")
    assert code == 1 and report["anchors_checked"] == 1
    assert {p["kind"] for p in report["problems"]} == {"anchor"}
    result = runner.invoke(app, ["anchor"])
    assert result.exit_code == 1 and "nothing was anchored" in result.output
    assert len([ln for ln in anchors.read_text().splitlines() if not ln.startswith("#")]) == 1


class AuditHead:
    @staticmethod
    def get():
        from ccinspect.web.accounts.models import AuditChainHead

        h = AuditChainHead.objects.get()
        return h.last_id, h.last_hash
