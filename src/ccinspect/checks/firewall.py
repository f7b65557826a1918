"""Firewall rule-review records: every firewall reviewed within the year, by a reviewer, approved."""

from __future__ import annotations

from .evidence import read_csv
from .model import Check, Fact


def analyze(ctx) -> list[Check]:
    p = ctx.params("rule_review")
    path = ctx.files["reviews"][0]
    latest: dict[str, tuple] = {}
    facts: list[Fact] = []
    for r in read_csv(path, ctx.rel(path), ["firewall", "review_date", "reviewer", "approved_by"]):
        fw = r.str("firewall", required=True)
        when = r.date("review_date")
        if when > ctx.as_of:
            continue
        if not r.str("reviewer") or not r.str("approved_by"):
            missing = " and ".join(x for x in ("reviewer", "approved_by") if not r.str(x))
            facts.append(Fact(f"{fw}: review of {when} has no {missing}", file=r.file, line=r.line, subject=fw,
                              date=when.isoformat()))
        if fw not in latest or when > latest[fw][0]:
            latest[fw] = (when, r)
    files = [path]
    firewalls = set(latest)
    for inv in ctx.files.get("inventory", []):
        for r in read_csv(inv, ctx.rel(inv), ["system", "kind"]):
            if r.str("kind").lower() == "firewall":
                firewalls.add(r.str("system", required=True))
        files.append(inv)
    limit = ctx.months_ago(int(p["review_months"]))
    for fw in sorted(firewalls):
        if fw not in latest:
            facts.append(Fact(f"{fw}: firewall in the log inventory has no rule review on record", subject=fw,
                              file=ctx.rel(path)))
        elif latest[fw][0] < limit:
            when, r = latest[fw]
            facts.append(Fact(f"{fw}: last rule review {when}, more than {p['review_months']} months "
                              f"before {ctx.as_of}", file=r.file, line=r.line, subject=fw, date=when.isoformat()))
    return [ctx.check("rule_review", facts,
                      f"{len(firewalls)} firewall(s) reviewed within {p['review_months']} months and approved",
                      "{n} firewall rule-review finding(s)", files)]
