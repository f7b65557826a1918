"""Social-engineering drills (documented CSV, one row per person per drill): a drill within the year and
retraining of everyone who failed it."""

from __future__ import annotations

from .evidence import read_csv
from .model import Check, Fact


def read_results(path, shown: str) -> list[dict]:
    return [{"date": r.date("date"), "employee": r.str("employee_id", required=True),
             "result": r.choice("result", {"passed", "failed"}), "retrained": r.date("retrained_on", required=False),
             "row": r} for r in read_csv(path, shown, ["date", "employee_id", "result"])]


def analyze(ctx) -> list[Check]:
    rows = [x for p in ctx.files["results"] for x in (ctx.read(p, read_results, p, ctx.rel(p)) or [])
            if x["date"] <= ctx.as_of]
    files = list(ctx.files["results"])
    checks = []
    if "drill" in ctx.active:
        m = int(ctx.params("drill")["drill_months"])
        since = ctx.months_ago(m)
        dates = sorted({x["date"] for x in rows})
        facts = []
        if not dates or dates[-1] < since:
            last = f"; last {dates[-1]}" if dates else "; none on record"
            facts.append(Fact(f"no social-engineering drill since {since}{last}", file=ctx.rel(files[0])))
        checks.append(ctx.check("drill", facts, f"latest drill {dates[-1] if dates else '-'} within {m} months",
                                "{n} social-engineering drill finding(s)", files))
    if "retraining" in ctx.active:
        facts = []
        for x in rows:
            if x["result"] != "failed":
                continue
            if x["retrained"] is None:
                facts.append(Fact(f"{x['employee']}: failed the drill of {x['date']} and has no retraining recorded",
                                  file=x["row"].file, line=x["row"].line, subject=x["employee"], date=x["date"].isoformat()))
            elif x["retrained"] < x["date"] or x["retrained"] > ctx.as_of:
                facts.append(Fact(f"{x['employee']}: retrained_on {x['retrained']} is not between the drill "
                                  f"({x['date']}) and the as-of date", file=x["row"].file, line=x["row"].line,
                                  subject=x["employee"]))
        n_failed = sum(1 for x in rows if x["result"] == "failed")
        checks.append(ctx.check("retraining", facts, f"all {n_failed} who failed a drill were retrained",
                                "{n} person(s) who failed a drill without retraining", files))
    return checks
