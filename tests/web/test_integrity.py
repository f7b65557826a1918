"""Data that can be proven intact: the audit trail's hash chain and the evidence files, checked by
`ccinspect verify` after the database and the store are edited behind the application's back."""

from __future__ import annotations

import json
import os

import pytest
from django.db import connection
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.web.accounts import chain
from ccinspect.web.accounts.audit import acting_as, record
from ccinspect.web.accounts.models import AuditChainHead, AuditEvent
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.evidence import path_of
from ccinspect.web.integrity.verify import verify

from .conftest import deficient_with_finding

runner = CliRunner()


def _verify_cli(*args):
    result = runner.invoke(app, ["verify", "--json", *args])
    out = result.stdout
    return result.exit_code, json.loads(out[out.index("{"):])


def _lift_triggers(*tables):
    """What an attacker with database access does first: the read-only triggers go."""
    with connection.cursor() as cur:
        for table in tables or ("accounts_auditevent", "inspections_evidence"):
            if connection.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cur.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            else:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks block the ALTER
                cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def _raw_insert(row: dict) -> int:
    cols = [f.column for f in AuditEvent._meta.concrete_fields if f.column != "id"]
    values = [json.dumps(row[c]) if c == "changes" else row[c] for c in cols]
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO accounts_auditevent ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                    values)
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()


def _ids():
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


def test_the_trail_is_a_chain_and_verifies(world):
    deficient_with_finding(world)
    rows = list(AuditEvent.objects.order_by("id").values("id", "hash", "prev_hash", *chain.FIELDS))
    assert len(rows) > 10 and rows[0]["prev_hash"] == chain.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (rows[-1]["id"], rows[-1]["hash"])
    code, report = _verify_cli("--no-evidence")
    assert code == 0 and report["ok"] and report["audit_entries"] == len(rows)
    # awkward content keeps verifying once the database has stored and given it back
    with acting_as(world.officer):
        record("note", model="x.Y", object_id="1", changes={"n": [1.0, 1e20, "台北", {"b": 2, "a": None}]})
    assert verify(evidence=False).ok


def test_an_edited_entry_is_detected(world):
    deficient_with_finding(world)
    victim = _ids()[len(_ids()) // 2]
    _lift_triggers()
    with connection.cursor() as cur:
        cur.execute("UPDATE accounts_auditevent SET actor_username = %s WHERE id = %s", ["someone_else", victim])
    code, report = _verify_cli("--no-evidence")
    assert code == 1
    assert [(p["kind"], p["id"]) for p in report["problems"]] == [("edited", victim)]
    # rewriting the entry's hash too only moves the break to the link after it
    row = AuditEvent.objects.filter(pk=victim).values("id", "hash", "prev_hash", *chain.FIELDS).get()
    with connection.cursor() as cur:
        cur.execute("UPDATE accounts_auditevent SET hash = %s WHERE id = %s",
                    [chain.entry_hash(row, row["prev_hash"]), victim])
    problems = verify(evidence=False).problems
    assert len(problems) == 1 and problems[0].id == _ids()[_ids().index(victim) + 1]


def test_a_deleted_entry_is_detected(world):
    deficient_with_finding(world)
    ids = _ids()
    victim = ids[len(ids) // 2]
    _lift_triggers()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM accounts_auditevent WHERE id = %s", [victim])
    code, report = _verify_cli("--no-evidence")
    assert code == 1
    assert [p["kind"] for p in report["problems"]] == ["deleted"]
    assert f"audit entry {victim} was deleted" in report["problems"][0]["message"]
    # the tail too: the chain head remembers where the trail ended
    with connection.cursor() as cur:
        cur.execute("DELETE FROM accounts_auditevent WHERE id = %s", [ids[-1]])
    kinds = {(p.kind, p.id) for p in verify(evidence=False).problems}
    assert ("deleted", ids[-1]) in kinds


def test_an_inserted_entry_is_detected(world):
    deficient_with_finding(world)
    last = AuditEvent.objects.order_by("-id").values("id", "hash", *chain.FIELDS).first()
    forged = dict(last, action="delete", object_repr="forged", prev_hash=last["hash"],
                  at=last["at"], changes={"x": [1, None]})
    forged["hash"] = chain.entry_hash(forged, forged["prev_hash"])  # a careful forger: its own hash is right
    new_id = _raw_insert(forged)
    code, report = _verify_cli("--no-evidence")
    assert code == 1
    assert [(p["kind"], p["id"]) for p in report["problems"]] == [("inserted", new_id)]


def test_an_entry_inserted_in_the_middle_is_detected(world):
    """The forger shifts the later entries up by one to make room and chains the forged one in."""
    deficient_with_finding(world)
    ids = _ids()
    k = ids[len(ids) // 2]
    rows = list(AuditEvent.objects.filter(id__gte=k).order_by("id").values())
    prev = AuditEvent.objects.filter(id__lt=k).order_by("-id").values_list("hash", flat=True).first()
    _lift_triggers()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM accounts_auditevent WHERE id >= %s", [k])
    forged = dict(rows[0], object_repr="forged sign-off", prev_hash=prev)
    forged["hash"] = chain.entry_hash(forged, prev)
    cols = [f.column for f in AuditEvent._meta.concrete_fields]
    with connection.cursor() as cur:
        for i, row in enumerate([forged, *rows]):
            row = dict(row, id=k + i)
            cur.execute(f"INSERT INTO accounts_auditevent ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                        [json.dumps(row[c]) if c == "changes" else row[c] for c in cols])
    problems = verify(evidence=False).problems
    assert ("inserted", k) in {(p.kind, p.id) for p in problems}
    assert all(p.kind == "inserted" or p.kind == "head" for p in problems)


def test_verify_reports_missing_and_altered_evidence(world):
    _item, ev, _f = deficient_with_finding(world)
    item2 = world.insp_a.items.filter(assessable=True).exclude(pk=ev.item_id).first()
    ev2 = svc.add_evidence(world.officer, item2, name="other.txt", data=b"another file\n")
    code, report = _verify_cli()
    assert code == 0 and report["evidence_records"] == 2 and report["evidence_files"] == 2
    p = path_of(ev)
    os.chmod(p, 0o640)
    p.write_bytes(b"evidence line, quietly changed\n")
    path_of(ev2).unlink()
    code, report = _verify_cli()
    assert code == 1
    assert sorted((q["kind"], q["id"]) for q in report["problems"]) == [("evidence-altered", ev.pk),
                                                                         ("evidence-missing", ev2.pk)]
    text = runner.invoke(app, ["verify"])
    assert text.exit_code == 1 and "altered" in text.output and "missing" in text.output


@pytest.mark.django_db(transaction=True)
def test_the_chain_survives_a_flush_and_stays_ordered():
    from ccinspect.web.accounts.models import Organisation

    AuditChainHead.objects.all().delete()
    Organisation.objects.create(name="Fresh")
    assert verify(evidence=False).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain():
    """Without the lock on the chain head, two transactions would read the same head and fork the chain."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers on its own; the row lock matters on PostgreSQL")
    import threading

    from django.db import connections

    errors = []

    def work(i):
        try:
            for j in range(8):
                record("note", model="t.T", object_id=f"{i}-{j}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = verify(evidence=False)
    assert report.ok and report.audit_entries == AuditEvent.objects.count() >= 48


def _rewrite_chain_from(first_id: int) -> None:
    """A database superuser's full rewrite: every hash from `first_id` on recomputed, the head updated,
    so the chain alone verifies again."""
    rows = list(AuditEvent.objects.order_by("id").values("id", "hash", "prev_hash", *chain.FIELDS))
    prev = chain.GENESIS
    with connection.cursor() as cur:
        for row in rows:
            if row["id"] >= first_id:
                h = chain.entry_hash(row, prev)
                cur.execute("UPDATE accounts_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
                            [prev, h, row["id"]])
                row["hash"] = h
            prev = row["hash"]
    AuditChainHead.objects.filter(pk=chain.HEAD_ID).update(last_id=rows[-1]["id"], last_hash=prev)


def test_an_anchor_outside_the_database_defeats_a_full_rewrite(world, tmp_path):
    anchors = tmp_path / "offsite" / "audit-anchors.txt"
    deficient_with_finding(world)
    code, report = _verify_cli("--no-evidence", "--anchor", str(anchors))
    assert code == 0 and report["anchored"] and report["anchors_checked"] == 0
    first_head = (report["audit_head_id"], report["audit_head_hash"])
    lines = [ln.split() for ln in anchors.read_text().splitlines() if not ln.startswith("#")]
    assert [tuple(ln[:2]) for ln in lines] == [(str(first_head[0]), first_head[1])]
    # an unchanged head is not appended twice; a new entry is
    assert _verify_cli("--no-evidence", "--anchor", str(anchors))[1]["anchored"] is False
    with acting_as(world.officer):
        record("note", model="x.Y", object_id="2")
    code, report = _verify_cli("--no-evidence", "--anchor", str(anchors))
    assert code == 0 and report["anchors_checked"] == 1 and report["anchored"]

    victim = _ids()[1]
    _lift_triggers()
    with connection.cursor() as cur:
        cur.execute("UPDATE accounts_auditevent SET object_repr = %s WHERE id = %s", ["nothing to see", victim])
    _rewrite_chain_from(victim)
    assert verify(evidence=False).ok  # the chain alone cannot tell
    code, report = _verify_cli("--no-evidence", "--anchor", str(anchors))
    assert code == 1 and not report["anchored"]
    assert {(p["kind"], p["id"]) for p in report["problems"]} == {("anchor", first_head[0]),
                                                                  ("anchor", report["audit_head_id"])}
    assert "rewritten" in report["problems"][0]["message"]
    assert len(anchors.read_text().splitlines()) == 3  # a failed run anchors nothing


def test_a_damaged_anchor_file_is_refused_with_its_line(world, tmp_path):
    anchors = tmp_path / "anchors.txt"
    anchors.write_text("# comment\n12 notahash 2026-01-01T00:00:00+08:00\n")
    result = runner.invoke(app, ["verify", "--no-evidence", "--anchor", str(anchors)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "SHA-256" in result.output
    assert anchors.read_text().count("\n") == 2  # nothing appended
