"""Backups and restores (documented CSV layout): consecutive failed runs, missed nights, restore tests
within the interval, and an offline or immutable copy per job."""

from __future__ import annotations

import datetime as dt

from .evidence import read_csv
from .model import Check, Fact

RESULTS = {"success", "warning", "failed"}


def read_jobs(path, shown: str) -> list[dict]:
    return [{"job": r.str("job", required=True), "date": r.date("date"), "result": r.choice("result", RESULTS),
             "copy": r.str("copy").lower(), "row": r} for r in read_csv(path, shown, ["job", "date", "result"])]


def read_restores(path, shown: str) -> list[dict]:
    return [{"job": r.str("job", required=True), "date": r.date("date"),
             "result": r.choice("result", {"passed", "failed"}), "row": r}
            for r in read_csv(path, shown, ["job", "date", "result"])]


def _jobs(ctx) -> list[dict]:
    out = [j for p in ctx.files["jobs"] for j in (ctx.read(p, read_jobs, p, ctx.rel(p)) or [])]
    return [j for j in out if j["date"] <= ctx.as_of]


def analyze(ctx) -> list[Check]:
    jobs = _jobs(ctx)
    files = list(ctx.files["jobs"])
    by_job: dict[str, list[dict]] = {}
    for j in sorted(jobs, key=lambda j: (j["date"], j["row"].line)):
        by_job.setdefault(j["job"], []).append(j)
    checks = []

    def fact(j: dict, msg: str) -> Fact:
        return Fact(f"{j['job']}: {msg}", file=j["row"].file, line=j["row"].line, subject=j["job"],
                    date=j["date"].isoformat())

    if "failures" in ctx.active:
        p = ctx.params("failures")
        limit, lookback = int(p["max_consecutive_failures"]), int(p["missed_lookback_days"])
        since = ctx.as_of - dt.timedelta(days=lookback - 1)
        facts = []
        for runs in by_job.values():
            streak: list[dict] = []
            for j in runs + [None]:
                if j is not None and j["result"] == "failed":
                    streak.append(j)
                    continue
                if len(streak) >= limit:
                    facts.append(fact(streak[0], f"{len(streak)} consecutive failed runs from {streak[0]['date']} "
                                                 f"to {streak[-1]['date']} (at most {limit - 1} allowed)"))
                streak = []
            ran = {j["date"] for j in runs if j["result"] != "failed"}
            first = max(since, runs[0]["date"])
            missed = [first + dt.timedelta(days=i) for i in range((ctx.as_of - first).days + 1)
                      if first + dt.timedelta(days=i) not in ran]
            if len(missed) > int(p["max_missed_nights"]):
                facts.append(fact(runs[-1], f"{len(missed)} night(s) without a successful run in the last {lookback} "
                                            f"days (first {missed[0]}, last {missed[-1]})"))
        checks.append(ctx.check("failures", facts, f"{len(by_job)} backup job(s) without repeated failures or missed nights",
                                "{n} backup job finding(s)", files))
    if "offline_copy" in ctx.active:
        kinds = set(ctx.params("offline_copy")["kinds"])
        facts = [Fact(f"{job}: no run records an offline or immutable copy (copy column: {', '.join(sorted(kinds))})",
                      file=runs[-1]["row"].file, subject=job)
                 for job, runs in by_job.items() if not any(j["copy"] in kinds and j["result"] != "failed" for j in runs)]
        checks.append(ctx.check("offline_copy", facts, "every job keeps an offline or immutable copy",
                                "{n} job(s) without an offline or immutable copy", files))
    if "restore_test" in ctx.active:
        m, m_source = ctx.interval("restore_test", "interval_months")
        since = ctx.months_ago(m)
        tests = [t for p in ctx.files["restores"] for t in (ctx.read(p, read_restores, p, ctx.rel(p)) or [])]
        facts = []
        for job in sorted(by_job):
            mine = sorted((t for t in tests if t["job"] == job and t["date"] <= ctx.as_of), key=lambda t: t["date"])
            ok = [t for t in mine if t["result"] == "passed" and t["date"] >= since]
            if not ok:
                last = f"; last {mine[-1]['date']} ({mine[-1]['result']})" if mine else "; none on record"
                facts.append(Fact(f"{job}: no passed restore test since {since}{last}", subject=job,
                                  file=ctx.rel(ctx.files["restores"][0])))
        checks.append(ctx.check("restore_test", facts, f"every job restored within {m} months ({m_source})",
                                f"{{n}} job(s) without a restore test within {m} months ({m_source})",
                                files + list(ctx.files["restores"])))
    return checks
