"""BCP and DDoS drills: tolerable interruption times, achieved RTO/RPO against targets, and drill dates."""

from __future__ import annotations

from .assets import load_inventory
from .evidence import read_csv
from .model import Check, Fact


def _drills(ctx) -> list[dict]:
    path = ctx.files["drills"][0]
    out = []
    for r in read_csv(path, ctx.rel(path), ["date", "kind", "system", "result"]):
        kind = r.choice("kind", {"bcp", "ddos"})
        d = {"date": r.date("date"), "kind": kind, "system": r.str("system", required=True),
             "result": r.choice("result", {"passed", "failed"}), "row": r}
        for col in ("tolerable_interruption_min", "target_rto_min", "achieved_rto_min",
                    "target_rpo_min", "achieved_rpo_min"):
            d[col] = r.number(col, required=False)
            if d[col] is not None and d[col] < 0:
                raise r.err(col, f"{d[col]:g} is negative")
        if kind == "bcp" and d["achieved_rto_min"] is None:
            raise r.err("achieved_rto_min", "a BCP drill must record the achieved RTO")
        out.append(d)
    return out


def _f(d: dict, message: str) -> Fact:
    return Fact(f"{d['system']}: {message}", file=d["row"].file, line=d["row"].line, subject=d["system"],
                date=d["date"].isoformat())


def analyze(ctx) -> list[Check]:
    drills = [d for d in _drills(ctx) if d["date"] <= ctx.as_of]
    files = [ctx.files["drills"][0]]
    bcp = [d for d in drills if d["kind"] == "bcp"]
    if "assets" in ctx.files:
        ap = ctx.files["assets"][0]
        core = sorted({a["name"] or a["id"] for a in load_inventory(ap, ctx.rel(ap)) if a["classification"] == "core"})
        files.append(ap)
    else:
        core = sorted({d["system"] for d in bcp})
    checks = []

    if "tolerable_interruption" in ctx.active:
        facts = []
        for system in core:
            mine = [d for d in bcp if d["system"] == system and d["tolerable_interruption_min"] is not None]
            if not mine:
                facts.append(Fact(f"{system}: core system with no tolerable interruption time recorded",
                                  subject=system, file=ctx.rel(ctx.files["drills"][0])))
                continue
            d = max(mine, key=lambda x: x["date"])
            if d["target_rto_min"] is not None and d["target_rto_min"] > d["tolerable_interruption_min"]:
                facts.append(_f(d, f"target RTO {d['target_rto_min']:g} min exceeds the tolerable interruption "
                                   f"time {d['tolerable_interruption_min']:g} min"))
        checks.append(ctx.check("tolerable_interruption", facts,
                                f"all {len(core)} core systems have a tolerable interruption time",
                                "{n} core system(s) without a sound tolerable interruption time", files))

    if "drill_rto" in ctx.active:
        m, m_source = ctx.interval("drill_rto", "drill_months")
        since = ctx.months_ago(m)
        facts = []
        for system in core:
            recent = [d for d in bcp if d["system"] == system and d["date"] >= since]
            if not recent:
                facts.append(Fact(f"{system}: no BCP drill since {since}", subject=system,
                                  file=ctx.rel(ctx.files["drills"][0])))
                continue
            d = max(recent, key=lambda x: x["date"])
            a = d["achieved_rto_min"]
            for limit, what in ((d["target_rto_min"], "target RTO"),
                                (d["tolerable_interruption_min"], "tolerable interruption time")):
                if limit is not None and a > limit:
                    facts.append(_f(d, f"drill on {d['date']} achieved RTO {a:g} min > {what} {limit:g} min"))
            if d["achieved_rpo_min"] is not None and d["target_rpo_min"] is not None \
                    and d["achieved_rpo_min"] > d["target_rpo_min"]:
                facts.append(_f(d, f"drill on {d['date']} achieved RPO {d['achieved_rpo_min']:g} min > "
                                   f"target RPO {d['target_rpo_min']:g} min"))
            if d["result"] == "failed":
                facts.append(_f(d, f"drill on {d['date']} recorded as failed"))
        checks.append(ctx.check("drill_rto", facts,
                                f"all {len(core)} core systems drilled within {m} months ({m_source}), RTO/RPO met",
                                f"{{n}} BCP drill finding(s); interval {m} months ({m_source})", files))

    if "ddos_drill" in ctx.active:
        m = int(ctx.params("ddos_drill")["drill_months"])
        since = ctx.months_ago(m)
        ddos = sorted((d for d in drills if d["kind"] == "ddos"), key=lambda d: d["date"])
        facts = []
        recent = [d for d in ddos if d["date"] >= since]
        if not recent:
            last = f"; last {ddos[-1]['date']}" if ddos else ""
            facts.append(Fact(f"no DDoS drill since {since}{last}", file=ctx.rel(ctx.files["drills"][0])))
        elif recent[-1]["result"] != "passed":
            facts.append(_f(recent[-1], f"DDoS drill on {recent[-1]['date']} recorded as failed"))
        checks.append(ctx.check("ddos_drill", facts,
                                f"DDoS drill on {recent[-1]['date'] if recent else '-'} passed",
                                "{n} DDoS drill finding(s)", [ctx.files["drills"][0]]))
    return checks
