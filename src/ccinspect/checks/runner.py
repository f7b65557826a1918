"""Maps analyzers to evidence files, runs them, and turns their checks into a per-requirement checklist."""

from __future__ import annotations

import csv
import datetime as dt
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ccinspect.applicability import BrokerProfile, evaluate
from ccinspect.core.dates import months_before
from ccinspect.core.errors import InputError
from ccinspect.core.results import Check, EvidenceError, Fact, RequirementResult, Status

from .evidence import check_archive, sha256
from .rules import AnalyzerSpec, RuleTable, load_rules

REPORT_FORMAT = "ccinspect-inspection/1"
DATES_FILE = "evidence_dates.csv"  # file,date: the date each piece of evidence represents, where it does not say
MAX_FACTS = 200  # facts kept per check in the report; the rest are counted


def _error_dict(exc: Exception, shown: str) -> dict:
    if isinstance(exc, EvidenceError):
        return exc.to_dict()
    if isinstance(exc, InputError):  # the kernel's (e.g. an undecodable byte): same shape as the others
        d = exc.to_dict()
        d.pop("record", None)
        d.update(file=shown, line=exc.line or 0, field=exc.field or "(encoding)")
        return d
    return {"file": shown, "line": 0, "field": "(file)", "message": f"{type(exc).__name__}: {exc}"}


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
    entered: dict[str, dt.date] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)  # files this analyzer could not use
    dates: dict[str, dict] = field(default_factory=dict)  # file -> the date it represents, and whence

    def represents(self, p: Path, date: dt.date | None, source: str) -> None:
        """Record the date a piece of evidence represents (the scan's, the export's), apart from upload."""
        if date is not None:
            self.dates[self.rel(p)] = {"date": date.isoformat(), "source": source}

    def evidence_date(self, p: Path) -> dt.date | None:
        """The entered date of a file that does not say its own (evidence_dates.csv or its name), noted."""
        d = self.entered_date(p)
        if d is not None:
            self.represents(p, d, "entered" if self.rel(p) in self.entered else "file name")
        return d

    def read(self, path: Path, loader: Callable, *args, **kwargs):
        """Run one file's loader on its own: a bad file is recorded (file, line, field) and gives None,
        so the analyzer goes on with its other files."""
        try:
            check_archive(path, self.rel(path))
            return loader(*args, **kwargs)
        except (EvidenceError, InputError, OSError, csv.Error) as exc:
            err = _error_dict(exc, self.rel(path))
            if not any(e["file"] == err["file"] for e in self.errors):
                self.errors.append(err)
            return None

    def entered_date(self, p: Path) -> dt.date | None:
        """The date a file represents when the file does not say: entered in evidence_dates.csv, else a
        date in its name (2024-05-31, 20240531)."""
        rel = self.rel(p)
        if rel in self.entered:
            return self.entered[rel]
        m = re.search(r"(?<!\d)(20\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)", p.name)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
        return None

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
        """The tier's interval for a tiered duty: the catalog's tier duty first, then the broker's own
        interval where the text gives none (assumed), else rules.yaml."""
        refs = set(self.spec.rules[rule].ref_ids)
        for d in self.duties:
            if refs & set(getattr(d, "implements", ())) and getattr(d, "frequency_months", None):
                return d.frequency_months, f"tier duty {d.id}"
        own = self.broker_interval(rule)
        if own is not None:
            return own
        by_tier = self.params(rule).get("frequency_months_by_tier", {})
        if self.tier is not None and self.tier in by_tier:
            note = " — an assumption: the text says only 定期; set assumed_intervals in the profile" \
                if self.params(rule).get("interval_assumed") else ""
            return int(by_tier[self.tier]), f"rules.yaml frequency for tier {self.tier}{note}"
        return None, "no frequency for this tier"

    def broker_interval(self, rule: str) -> tuple[int, str] | None:
        """The broker's own interval for a rule whose interval the text leaves open (定期)."""
        if not self.params(rule).get("interval_assumed") or self.profile is None:
            return None
        months = getattr(self.profile, "assumed_intervals", {}).get(f"{self.analyzer}.{rule}")
        return (int(months), "the broker's own interval (profile assumed_intervals)") if months else None

    def interval(self, rule: str, key: str) -> tuple[int, str]:
        """A rule's interval in months (params[key]), or the broker's own where the text says only 定期."""
        own = self.broker_interval(rule)
        if own is not None:
            return own
        note = " (assumed: the text says only 定期)" if self.params(rule).get("interval_assumed") else ""
        return int(self.params(rule)[key]), f"rules.yaml{note}"


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
            checks.extend(_settle(c, ctx.errors, ctx) for c in produced if c.rule in ctx.active)
            for rid in sorted(ctx.active - seen):  # guard: every active rule must give a verdict
                checks.append(Check(aid, rid, tuple(spec.rules[rid].ref_ids), Status.ERROR,
                                    f"analyzer {aid} gave no verdict for rule {rid}", [], used))
            bad = {e["file"] for e in ctx.errors}
            run["status"] = "ran" if not bad else "error" if bad >= set(used) else "partial"
            run["errors"] = ctx.errors
            run["dates"] = ctx.dates
            if ctx.errors:
                run["error"] = ctx.errors[0]
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


def _settle(c: Check, errors: list[dict], ctx: Context | None = None) -> Check:
    """A check whose files were partly unreadable is `partial` (judged on what could be read) and names
    the files it could not use. It is `error` when a kind of evidence it reads (a role) has no readable
    file left: judging without it would flag clean items. Facts beyond MAX_FACTS are counted, not kept."""
    bad = [e for e in errors if e["file"] in c.files]
    if len(c.facts) > MAX_FACTS:
        c.omitted += len(c.facts) - MAX_FACTS
        c.facts = c.facts[:MAX_FACTS]
    if not bad:
        return c
    c.unusable = bad
    names = ", ".join(f"{e['file']}:{e.get('line') or 0} ({e.get('field')}: {e['message']})" for e in bad)
    bad_files = {e["file"] for e in bad}
    lost = False
    if ctx is not None and c.rule in ctx.spec.rules:
        spec = ctx.spec.rules[c.rule]
        files = {role: {ctx.rel(p) for p in ps} for role, ps in ctx.files.items()}
        gone = {role for role, fs in files.items() if fs and fs <= bad_files}
        # a role the rule needs has no readable file left, or none of its either-or roles has one
        lost = bool(gone & set(spec.needs)) or bool(spec.needs_any) and not any(
            r in files and r not in gone for r in spec.needs_any)
    if lost or bad_files >= set(c.files):
        c.status, c.summary = Status.ERROR, f"no usable evidence: {names}"
        c.error = bad[0]
        c.facts = [Fact(e["message"], file=e["file"], line=e.get("line") or None, subject=e.get("field"))
                   for e in bad]
    else:
        if c.status in (Status.PASS, Status.MANUAL):
            c.status = Status.PARTIAL
        c.summary += f"; could not use {names}"
    return c


_PRECEDENCE = [Status.FAIL, Status.ERROR, Status.PARTIAL, Status.MANUAL, Status.PASS]


def combine(ref_id: str, checks: list[Check], has_rules: bool) -> tuple[Status, str]:
    """fail > error > partial > manual > pass: a requirement passes only when every rule serving it ran
    and passed; it is `error` only when none of its rules could use any evidence, else `partial`."""
    if not checks:
        return Status.MANUAL, ("no machine check exists for this requirement; inspect by hand" if not has_rules
                               else "no analyzer ran for this requirement")
    present = {c.status for c in checks}
    status = next(s for s in _PRECEDENCE if s in present)
    if status == Status.ERROR and present & {Status.PASS, Status.PARTIAL}:
        status = Status.PARTIAL
    picked = [c for c in checks if c.status == status or (status == Status.PARTIAL and c.status == Status.ERROR)]
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

    entered, date_errors = load_entered_dates(root)
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
                      list(app.duties), profile, entered)
        checks, run = run_analyzer(aid, fns[aid], ctx)
        all_checks.extend(checks)
        runs.append(run)

    # Every file in the folder, hashed, with the analyzers that read it.
    readers: dict[str, list[str]] = {}
    for run in runs:
        for f in run["files"]:
            readers.setdefault(f, []).append(run["analyzer"])
    evidence = []
    unreadable = {e["file"]: e for run in runs for e in run.get("errors", [])}
    unreadable.update({e["file"]: e for e in date_errors})
    for p in sorted(x for x in root.rglob("*") if x.is_file()):
        rel = p.relative_to(root).as_posix()
        item = {"path": rel, "sha256": sha256(p), "size": p.stat().st_size, "analyzers": readers.get(rel, [])}
        for run in runs:
            if rel in run.get("dates", {}):
                item["represents"] = run["dates"][rel]
        if rel not in unreadable and "represents" not in item and rel in entered:
            item["represents"] = {"date": entered[rel].isoformat(), "source": "entered"}
        if rel in unreadable:
            item["error"] = unreadable[rel]
        elif rel == DATES_FILE:
            item["role"] = "evidence dates"
        elif not item["analyzers"]:
            try:
                check_archive(p, rel)
                item["warning"] = "not used: no analyzer reads this file (check its folder and name)"
            except EvidenceError as exc:
                item["error"] = unreadable[rel] = exc.to_dict()
        evidence.append(item)
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
    return Inspection(profile, as_of, app.tier, app.version, str(root), results, evidence, runs, outside,
                      {"unreadable": sorted(unreadable.values(), key=lambda e: e["file"]),
                       "not_used": [e["path"] for e in evidence if "warning" in e]})


def load_entered_dates(root: Path) -> tuple[dict[str, dt.date], list[dict]]:
    """evidence_dates.csv: file,date — the date a piece of evidence represents when it does not say."""
    from .evidence import read_csv

    p = root / DATES_FILE
    if not p.is_file():
        return {}, []
    out: dict[str, dt.date] = {}
    try:
        for r in read_csv(p, DATES_FILE, ["file", "date"]):
            out[r.str("file", required=True).replace("\\", "/").lstrip("./")] = r.date("date")
    except EvidenceError as exc:
        return {}, [exc.to_dict()]
    return out, []
