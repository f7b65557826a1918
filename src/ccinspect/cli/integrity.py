"""`ccinspect verify`, `ccinspect backup`, `ccinspect restore`: data that can be proven intact."""

from __future__ import annotations

from pathlib import Path

import typer

from ccinspect.core.exitcodes import ExitCode

from .common import console, emit_json, err_console, fail
from .web import _django


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        json_out: bool = typer.Option(False, "--json", help="the report as JSON"),
        audit: bool = typer.Option(True, "--audit/--no-audit", help="walk the audit trail's hash chain"),
        evidence: bool = typer.Option(True, "--evidence/--no-evidence", help="recompute every evidence hash"),
        sweep_orphans: bool = typer.Option(False, "--sweep-orphans",
                                           help="delete evidence-store files no record names and stale upload "
                                                "spool files (left by a crash)"),
        grace_minutes: float = typer.Option(60, "--grace-minutes", min=0,
                                            help="orphans younger than this are left alone (a write in flight)"),
        anchor: Path = typer.Option(None, "--anchor", help="the file outside the database with the chain heads "
                                    "of earlier runs (default: CCINSPECT_ANCHOR_FILE): each must still be in the "
                                    "trail; the current head is appended"),
        use_anchor: bool = typer.Option(True, "--anchors/--no-anchors", help="check the anchor file"),
    ) -> None:
        """Prove the data intact: the audit chain (edited, inserted or deleted entries, checked against the
        anchors kept outside the database), every evidence record against the audit entry of its creation
        (added, changed or deleted outside the application) and every evidence file (missing or altered).
        Exit code 1 when anything is wrong. Files in the store that no record names (orphans of a crash) are
        listed, and removed with --sweep-orphans; they are not errors. A file the audit trail names but no
        record does is never removed: --sweep-orphans moves it to the quarantine folder."""
        _django()
        from django.conf import settings

        from ccinspect.web.integrity.verify import AnchorError
        from ccinspect.web.integrity.verify import verify as run

        if anchor is None and use_anchor:
            anchor = Path(settings.AUDIT_ANCHOR_FILE)
        try:
            report = run(audit=audit, evidence=evidence, sweep_orphans=sweep_orphans, grace_minutes=grace_minutes,
                         anchor=anchor if use_anchor else None)
        except AnchorError as exc:
            fail(str(exc), 2)
        if json_out:
            emit_json(report.as_dict())
        else:
            if audit:
                console.print(f"audit trail: {report.audit_entries} entries, chain head {report.head_hash or '—'}",
                              highlight=False)
                if anchor is not None and use_anchor:
                    console.print(f"anchors: {report.anchors_checked} checked in {anchor}"
                                  + ("; head appended" if report.anchored else ""), highlight=False)
            if evidence:
                console.print(f"evidence: {report.evidence_records} records, {report.evidence_files} files "
                              "checked", highlight=False)
                verb = "removed" if sweep_orphans else "not named by any record (--sweep-orphans removes them)"
                if report.orphans:
                    console.print(f"orphan files: {len(report.orphans)} {verb}", highlight=False)
                    for rel in report.orphans[:20]:
                        console.print(f"  {rel}", highlight=False)
                for q in report.quarantined:
                    where = f"moved to {q['moved_to']}" if q["moved_to"] else "kept (--sweep-orphans moves it to quarantine)"
                    console.print(f"named by audit entry {q['audit_entry']} (evidence {q['evidence_id']}) but by no "
                                  f"record: {q['file']}, {where}", highlight=False, soft_wrap=True)
                if report.stale_uploads:
                    console.print(f"uploads left half-spooled by a crash: {len(report.stale_uploads)} "
                                  + ("removed" if sweep_orphans else "(--sweep-orphans removes them)"), highlight=False)
            for p in report.problems:
                err_console.print(f"[bold red]{p.kind}:[/] {p.message}", highlight=False, soft_wrap=True)
            console.print("[green]intact[/]" if report.ok else f"[bold red]{len(report.problems)} problem(s)[/]")
        if not report.ok:
            raise typer.Exit(int(ExitCode.FINDINGS))

    @app.command("anchor")
    def anchor_cmd(
        anchor: Path = typer.Option(None, "--anchor", help="the anchor file (default: CCINSPECT_ANCHOR_FILE)"),
    ) -> None:
        """Append the audit chain's head to the anchor file kept outside the database, after checking the
        chain and every earlier anchor. Schedule it daily (docs/web.md, Keeping the data provable)."""
        _django()
        from django.conf import settings

        from ccinspect.web.integrity.verify import AnchorError
        from ccinspect.web.integrity.verify import verify as run

        path = Path(anchor or settings.AUDIT_ANCHOR_FILE)
        try:
            report = run(evidence=False, anchor=path)
        except AnchorError as exc:
            fail(str(exc), 2)
        for p in report.problems:
            err_console.print(f"[bold red]{p.kind}:[/] {p.message}", highlight=False, soft_wrap=True)
        if not report.ok:
            fail(f"the audit trail does not verify; nothing was anchored in {path}", 1)
        console.print(f"{path}: head {report.head_id} {report.head_hash or '—'} "
                      + ("anchored" if report.anchored else "already anchored"), highlight=False, soft_wrap=True)

    @app.command("backup")
    def backup(out: Path = typer.Argument(..., help="the archive to write (OUT.tar, or .tar.gz)")) -> None:
        """One archive: the database dump, every evidence file, a manifest with the SHA-256 of each."""
        _django()
        from ccinspect.web.integrity.backup import BackupError
        from ccinspect.web.integrity.backup import backup as run

        try:
            done = run(out)
        except BackupError as exc:
            fail(str(exc), 1)
        console.print(f"{done['archive']}: {done['records']} records, {done['evidence_files']} evidence files; "
                      f"audit chain head {done['audit_head_hash'] or '—'}", highlight=False, soft_wrap=True)
        if done.get("anchor_problems"):
            err_console.print(f"[bold yellow]warning:[/] the head was not anchored in {done['anchor']}: "
                              + "; ".join(done["anchor_problems"][:3]), highlight=False, soft_wrap=True)
            raise typer.Exit(3)  # ExitCode.PARTIAL: the archive is written, the trail needs looking at
        console.print(f"head anchored in {done['anchor']}", highlight=False, soft_wrap=True)

    @app.command("restore")
    def restore(
        archive: Path = typer.Argument(..., help="an archive written by `ccinspect backup`"),
        force: bool = typer.Option(False, "--force", help="replace the data of a database that is not empty"),
    ) -> None:
        """Check the whole archive, then restore it into an empty database (--force: empty it first)."""
        _django()
        from ccinspect.web.integrity.backup import BackupError
        from ccinspect.web.integrity.backup import restore as run

        try:
            done = run(archive, force=force)
        except BackupError as exc:
            fail(str(exc), 1)
        console.print(f"restored {done['records']} records and {done['evidence_files']} evidence files from "
                      f"{done['archive']}; audit chain of {done['audit_entries']} entries verified, head "
                      f"{done['audit_head_hash'] or '—'}", highlight=False, soft_wrap=True)
