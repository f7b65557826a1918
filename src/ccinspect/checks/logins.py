"""Login logs through the login-monitoring engine; its alerts become facts for the inspector."""

from __future__ import annotations

import re

from .model import Check, EvidenceError, Fact


def _evidence_error(ctx, message: str, fallback: str) -> EvidenceError:
    # The engine's InputError reads "path: line N: message"; keep file and line when it does.
    m = re.match(r"^(?P<file>[^:]+): line (?P<line>\d+): (?P<msg>.*)$", message)
    if m:
        return EvidenceError(ctx.rel_str(m["file"]), int(m["line"]), "(login log)", m["msg"])
    f, _, rest = message.partition(": ")
    return EvidenceError(ctx.rel_str(f) if rest else fallback, 0, "(login log)", rest or message)


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
        raise _evidence_error(ctx, str(exc), ctx.rel(logs[0])) from None
    res = run.result
    events = res.summary.get("events", 0)
    if res.problems.count and res.problems.count >= events:
        first = res.problems.samples[0]
        raise EvidenceError(ctx.rel_str(first.file), int(first.line) if str(first.line).isdigit() else 0,
                            first.field, f"no readable login event ({first.message})")
    facts = []
    for a in sorted(res.alerts, key=lambda a: (a.severity, a.kind))[: int(p["max_alert_facts"])]:
        accts = ", ".join(a.accounts[:5]) + (" …" if len(a.accounts) > 5 else "")
        ips = ", ".join(a.ips[:5]) + (" …" if len(a.ips) > 5 else "")
        facts.append(Fact(f"{a.severity} {a.kind}: accounts {accts or '-'} from {ips or '-'} "
                          f"({a.first} – {a.last}) {a.detail}".strip(), subject=a.kind,
                          date=(a.first or "")[:10] or None))
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
