"""Login logs through the login-monitoring engine; its alerts become facts for the inspector."""

from __future__ import annotations

from ccinspect.core.results import Check, EvidenceError, Fact, alert_facts


def _evidence_error(ctx, exc, fallback: str) -> EvidenceError:
    # The engine's InputError carries its file and line; its text repeats them ahead of the message.
    text = str(exc)
    if not exc.file:
        return EvidenceError(fallback, 0, "(login log)", text)
    msg = text.removeprefix(f"{exc.file}: ").removeprefix(f"line {exc.line}: " if exc.line else "")
    return EvidenceError(ctx.rel_str(exc.file), exc.line or 0, "(login log)", msg)


def analyze(ctx) -> list[Check]:
    from ccinspect.detection.adapters import InputError
    from ccinspect.detection.pipeline import scan_files

    p = ctx.params("login_review")
    logs = ctx.files["logs"]
    roster = ctx.files["roster"][0]
    allow = ctx.files.get("allow", [None])[0]
    try:
        run = scan_files([str(x) for x in logs], roster, allow=allow, hash_inputs=False)
    except InputError as exc:
        raise _evidence_error(ctx, exc, ctx.rel(logs[0])) from None
    res = run.result
    events = res.summary.get("events", 0)
    if res.problems.count and res.problems.count >= events:
        first = res.problems.samples[0]
        raise EvidenceError(ctx.rel_str(first.file), int(first.line) if str(first.line).isdigit() else 0,
                            first.field, f"no readable login event ({first.message})")
    facts = alert_facts((a.as_dict() for a in res.alerts), limit=int(p["max_alert_facts"]))
    for a in res.problems.files.values():  # an input that lost lines is said so, with how much
        if a.status in ("partial", "unreadable"):
            why = a.error["message"] if a.error else "; ".join(a.warnings)
            facts.append(Fact(f"login log {a.status}: {a.lost} of {a.content_lines} line(s) lost ({why})",
                              file=ctx.rel_str(a.file)))
    for pr in res.problems.samples[:10]:
        facts.append(Fact(f"malformed line skipped: {pr.field}: {pr.message}", file=ctx.rel_str(pr.file),
                          line=int(pr.line) if str(pr.line).isdigit() else None))
    summary = (f"{events} login events scanned, {len(res.alerts)} alert(s), {res.problems.count} malformed "
               "line(s); confirm the broker's own review caught each alert")
    return [ctx.check("login_review", facts, summary, summary, logs + [roster], manual=summary)]
