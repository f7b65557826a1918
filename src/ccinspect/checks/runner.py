"""Maps analyzers to evidence files, runs them, and turns their checks into a per-requirement checklist."""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ccinspect.applicability import BrokerProfile, evaluate
from ccinspect.core.dates import months_before
from ccinspect.core.results import Check, EvidenceError, Fact, RequirementResult, Status

from .evidence import sha256
from .rules import AnalyzerSpec, RuleTable, load_rules

REPORT_FORMAT = "ccinspect-inspection/1"


@dataclass
class Context:
    """What one analyzer sees: its files by role, its rules, and the inspection's date and tier."""

    analyzer: str
    spec: AnalyzerSpec
    root: Path
    files: dict[str, list[Path]]
    active: set[str]
    as_of: dt.date
    tier: int | None = None
    duties: list = field(default_factory=list)
    profile: BrokerProfile | None = None

    def rel(self, p: Path) -> str:
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)

    def rel_str(self, name: str) -> str:
        return self.rel(Path(name)) if Path(name).is_absolute() else name

    def params(self, rule: str) -> dict:
        return self.spec.rules[rule].params

    def months_ago(self, months: int) -> dt.date:
        """The earliest date still within `months` months of as-of (core.dates: 民法第121條)."""
        return months_before(self.as_of, months)

    def check(self, rule: str, facts: list[Fact], summary_pass: str, summary_fail: str,
              files: list[Path] | list[str], manual: str | None = None) -> Check:
        """Build the verdict: fail when there are facts, else pass (or manual when told why)."""
        shown = sorted({f if isinstance(f, str) else self.rel(f) for f in files})
        if manual is not None:
            status, summary = Status.MANUAL, manual
        elif facts:
            status, summary = Status.FAIL, summary_fail.format(n=len(facts))
        else:
            status, summary = Status.PASS, summary_pass
        return Check(self.analyzer, rule, tuple(self.spec.rules[rule].ref_ids), status, summary, facts, shown)

    def frequency_months(self, rule: str) -> tuple[int | None, str]:
        """The tier's interval for a tiered duty: the catalog's tier duty first, else rules.yaml."""
        refs = set(self.spec.rules[rule].ref_ids)
        for d in self.duties:
            if refs & set(getattr(d, "implements", ())) and getattr(d, "frequency_months", None):
                return d.frequency_months, f"tier duty {d.id}"
        by_tier = self.params(rule).get("frequency_months_by_tier", {})
        if self.tier is not None and self.tier in by_tier:
            return int(by_tier[self.tier]), f"rules.yaml frequency for tier {self.tier}"
        return None, "no frequency for this tier"


Analyzer = Callable[[Context], list[Check]]


def registry() -> dict[str, Analyzer]:
    from . import accounts, assets, auditlogs, bcp, firewall, host, iot, logins, passwords, training, vulnscan

    return {
        "accounts": accounts.analyze,
        "passwords": passwords.analyze,
        "auditlogs": auditlogs.analyze,
        "firewall": firewall.analyze,
        "training": training.analyze,
        "vulnscan": vulnscan.analyze,
        "security_tests": vulnscan.analyze_security_tests,
        "bcp": bcp.analyze,
        "assets": assets.analyze,
        "iot": iot.analyze,
        "host": host.analyze,
        "logins": logins.analyze,
    }


def match_files(root: Path, spec: AnalyzerSpec) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for role, pattern in spec.evidence.items():
        hits = sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.startswith("."))
        if hits:
            out[role] = hits
    return out


def active_rules(spec: AnalyzerSpec, files: dict[str, list[Path]]) -> set[str]:
    act = set()
    for rid, r in spec.rules.items():
        if spec.live:
            act.add(rid)
        elif all(role in files for role in r.needs) and (not r.needs_any or any(x in files for x in r.needs_any)):
            act.add(rid)
    return act


def _missing_note(spec: AnalyzerSpec, rid: str, files: dict[str, list[Path]]) -> str:
    r = spec.rules[rid]
    missing = [spec.evidence[x] for x in r.needs if x not in files]
    if r.needs_any and not any(x in files for x in r.needs_any):
        missing.append(" or ".join(spec.evidence[x] for x in r.needs_any))
    return "no evidence supplied: expected " + ", ".join(missing)


def run_analyzer(aid: str, fn: Analyzer, ctx: Context) -> tuple[list[Check], dict]:
    """Run one analyzer; a malformed file or a crash errors this analyzer's rules only."""
    spec = ctx.spec
    checks: list[Check] = []
    run = {"analyzer": aid, "title": spec.title, "status": "skipped", "files": [], "error": None}
    used = sorted({ctx.rel(p) for ps in ctx.files.values() for p in ps})
    if ctx.active:
        run["files"] = used
        try:
            produced = fn(ctx)
            seen = {c.rule for c in produced}
            checks.extend(c for c in produced if c.rule in ctx.active)
            for rid in sorted(ctx.active - seen):  # guard: every active rule must give a verdict
                checks.append(Check(aid, rid, tuple(spec.rules[rid].ref_ids), Status.ERROR,
                                    f"analyzer {aid} gave no verdict for rule {rid}", [], used))
            run["status"] = "ran"
        except EvidenceError as exc:
            run["status"], run["error"] = "error", exc.to_dict()
            for rid in sorted(ctx.active):
                checks.append(Check(aid, rid, tuple(spec.rules[rid].ref_ids), Status.ERROR,
                                    f"malformed evidence: {exc}",
                                    [Fact(exc.message, file=exc.file, line=exc.line or None, subject=exc.field)],
                                    used, error=exc.to_dict()))
        except Exception as exc:  # noqa: BLE001 - a bug in one analyzer must not stop the inspection
            detail = f"{type(exc).__name__}: {exc}"
            run["status"], run["error"] = "error", {"message": detail, "trace": traceback.format_exc(limit=3)}
            for rid in sorted(ctx.active):
                checks.append(Check(aid, rid, tuple(spec.rules[rid].ref_ids), Status.ERROR,
                                    f"analyzer {aid} failed: {detail}", [], used, error={"message": detail}))
    for rid in sorted(set(spec.rules) - ctx.active):
        checks.append(Check(aid, rid, tuple(spec.rules[rid].ref_ids), Status.MANUAL,
                            _missing_note(spec, rid, ctx.files), []))
    return checks, run


_PRECEDENCE = [Status.FAIL, Status.ERROR, Status.MANUAL, Status.PASS]


def combine(ref_id: str, checks: list[Check], has_rules: bool) -> tuple[Status, str]:
    """fail > error > manual > pass: a requirement passes only when every rule serving it ran and passed."""
    if not checks:
        return Status.MANUAL, ("no machine check exists for this requirement; inspect by hand" if not has_rules
                               else "no analyzer ran for this requirement")
    status = next(s for s in _PRECEDENCE if any(c.status == s for c in checks))
    picked = [c for c in checks if c.status == status]
    if status == Status.MANUAL and any(c.status == Status.PASS for c in checks):
        summary = "partly checked: " + "; ".join(f"{c.analyzer}.{c.rule}: {c.summary}" for c in checks)
    else:
        summary = "; ".join(f"{c.analyzer}.{c.rule}: {c.summary}" for c in picked)
    return status, summary


@dataclass
class Inspection:
    profile: BrokerProfile
    as_of: dt.date
    tier: int
    version: str
    evidence_dir: str
    requirements: list[RequirementResult]
    evidence: list[dict]
    analyzers: list[dict]
    outside_checklist: list[Check]
    extras: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for r in self.requirements:
            out[r.status.value] += 1
        return out

    def get(self, ref_id: str) -> RequirementResult | None:
        return next((r for r in self.requirements if r.ref_id == ref_id), None)

    def to_dict(self) -> dict:
        return {
            "format": REPORT_FORMAT,
            "broker": self.profile.name,
            "as_of": self.as_of.isoformat(),
            "tier": self.tier,
            "version": self.version,
            "evidence_dir": self.evidence_dir,
            "counts": self.counts(),
            "requirements": [r.to_dict() for r in self.requirements],
            "evidence": self.evidence,
            "analyzers": self.analyzers,
            "outside_checklist": [c.to_dict() for c in self.outside_checklist],
            **self.extras,
        }


def inspect(profile: BrokerProfile, evidence_dir: Path | str, as_of: dt.date, *, host: bool = False,
            host_root: Path | str = "/", rules: RuleTable | None = None,
            analyzers: dict[str, Analyzer] | None = None) -> Inspection:
    """Run every analyzer with evidence present and build the whole applicable checklist."""
    root = Path(evidence_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"evidence folder {root} does not exist")
    table = rules or load_rules()
    fns = analyzers or registry()
    app = evaluate(profile, as_of)

    all_checks: list[Check] = []
    runs: list[dict] = []
    for aid, spec in table.analyzers.items():
        if spec.live and not host:
            continue
        if aid not in fns:
            raise KeyError(f"rules.yaml names analyzer {aid!r}, which is not registered")
        aroot = Path(host_root) if spec.live else root
        files = {} if spec.live else match_files(root, spec)
        ctx = Context(aid, spec, aroot, files, active_rules(spec, files), as_of, app.tier,
                      list(app.duties), profile)
        checks, run = run_analyzer(aid, fns[aid], ctx)
        all_checks.extend(checks)
        runs.append(run)

    # Every file in the folder, hashed, with the analyzers that read it.
    readers: dict[str, list[str]] = {}
    for run in runs:
        for f in run["files"]:
            readers.setdefault(f, []).append(run["analyzer"])
    evidence = []
    for p in sorted(x for x in root.rglob("*") if x.is_file()):
        rel = p.relative_to(root).as_posix()
        evidence.append({"path": rel, "sha256": sha256(p), "size": p.stat().st_size,
                         "analyzers": readers.get(rel, [])})
    hashes = {e["path"]: e["sha256"] for e in evidence}
    for c in all_checks:  # live host files are hashed where they are read
        for f in c.files:
            if f not in hashes and Path(f).is_absolute() and Path(f).is_file():
                try:
                    hashes[f] = sha256(Path(f))
                except OSError:
                    pass

    results: list[RequirementResult] = []
    covered: set[str] = set()
    for e in app.applicable:
        req = e.requirement
        if not req.assessable:
            continue
        covered.add(e.ref_id)
        mine = [c for c in all_checks if e.ref_id in c.ref_ids]
        status, summary = combine(e.ref_id, mine, bool(table.rules_for(e.ref_id, include_live=host)))
        files = sorted({f for c in mine if c.status != Status.MANUAL for f in c.files})
        results.append(RequirementResult(
            ref_id=e.ref_id, status=status, summary=summary, text=req.text, text_en=req.text_en,
            cadence=e.cadence, checks=mine,
            files=[{"path": f, "sha256": hashes.get(f)} for f in files],
        ))
    outside = [c for c in all_checks if not set(c.ref_ids) & covered and c.status != Status.MANUAL]
    return Inspection(profile, as_of, app.tier, app.version, str(root), results, evidence, runs, outside)
