"""One daily run: inputs -> adapters -> engine -> outputs and run record."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .adapters import InputError, Problems, Source, expand, prepare
from .adapters.mapping import load_mapping
from .adapters.windows import attach_context
from .engine import TAIPEI, Engine, ScanResult
from .report import run_record, sha256_file, write_outputs
from .rules import RuleSet, load_rules
from .state import State


@dataclass
class Run:
    result: ScanResult
    rules: RuleSet
    sources: list[Source]
    record: dict
    outputs: dict[str, Path]

    @property
    def partial(self) -> bool:
        """Some input was unreadable, damaged or mostly malformed (exit PARTIAL)."""
        return self.result.problems.partial


def _sha256(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:  # an unreadable input is accounted by the adapters
        return None


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else TAIPEI
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--timezone: unknown time zone {name!r} (an IANA name such as Asia/Taipei or UTC)") from None


def count_lines(path: Path) -> int:
    """Lines of a plain or gzip file (the last one counted without its newline)."""
    import gzip  # noqa: PLC0415

    n, last = 0, b"\n"
    with path.open("rb") as raw:
        f = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == b"\x1f\x8b" else raw
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _account_csv(sources: list[Source], lines: dict[str, int], problems: Problems) -> None:
    """Canonical CSV is read by DuckDB: its lines are counted on the side, its malformed rows by the engine.

    The engine locates at most 1,000 bad rows; the rest are counted for all inputs together. They are
    shared among the canonical CSV files in proportion to their unexplained rows, so a file whose every
    row is bad is still "mostly malformed" (and the run partial)."""
    csvs = [s for s in sources if s.fmt == "csv" and s.account is not None and str(s.origin) in lines]
    rest = problems.by_file.get("(all inputs)", 0)
    if rest and csvs:
        room = {str(s.origin): max(lines[str(s.origin)] - 1 - s.account.malformed, 0) for s in csvs}
        total = sum(room.values()) or 1
        for s in csvs:
            s.account.malformed += round(rest * room[str(s.origin)] / total)
    for s in csvs:
        a = s.account
        malformed = a.malformed
        a.lines = lines[str(s.origin)]
        a.skip("header")
        a.unsplit_events = max(a.lines - 1 - malformed, 0)
        a.warnings.clear()
        a.finish()


def scan_files(
    patterns: list[str],
    customers: str | Path,
    *,
    allow: str | Path | None = None,
    state_dir: str | Path | None = None,
    rules_path: str | Path | None = None,
    out_dir: str | Path | None = None,
    input_format: str = "auto",
    mapping: str | Path | None = None,
    year: int | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
    memory_limit: str = "1500MB",
    threads: int | None = None,
    on_progress=None,
    hash_inputs: bool = True,
) -> Run:
    rules = load_rules(rules_path)
    tz = zone(timezone or rules.timezone)
    rules.timezone = tz.key  # times without an offset, in the converted files and in canonical CSV alike
    started = datetime.now(tz)
    paths = expand(patterns)
    problems = Problems()
    # Inputs are hashed (and canonical CSV's lines counted) on side threads (hashlib and reads release
    # the GIL) while the adapters and DuckDB work.
    pool = ThreadPoolExecutor(max_workers=1)
    futures = {str(p): pool.submit(_sha256, p) for p in paths} if hash_inputs else {}
    with tempfile.TemporaryDirectory(prefix="ccinspect-work-") as work:
        sources = prepare(paths, Path(work), problems, fmt=input_format,
                          mapping=load_mapping(mapping) if mapping else None, year=year, tz=tz, now=now or started)
        counts = {str(s.origin): pool.submit(count_lines, s.origin) for s in sources if s.fmt == "csv" and s.account}
        engine = Engine(rules, memory_limit=memory_limit, threads=threads, on_progress=on_progress)
        result = engine.scan(sources, customers, allow=allow, state=State(state_dir), problems=problems)
    attach_context(result.alerts, [c for a in problems.files.values() for c in a.context])
    hashes = {k: h for k, f in futures.items() if (h := f.result())}
    _account_csv(sources, {k: f.result() for k, f in counts.items()}, problems)
    pool.shutdown()
    result.summary["partial"] = problems.partial
    result.summary["inputs_unreadable"] = sum(a.status == "unreadable" for a in problems.files.values())
    result.summary["future_events"] = sum(a.future for a in problems.files.values())
    finished = datetime.now(TAIPEI)
    record = run_record(
        result, rules, sources, started=started, finished=finished, hashes=hashes,
        args={"files": [str(p) for p in paths], "customers": str(customers), "allow": str(allow) if allow else None,
              "state": str(state_dir) if state_dir else None, "input_format": input_format,
              "mapping": str(mapping) if mapping else None, "timezone": tz.key, "year": year},
    )
    outputs = write_outputs(Path(out_dir), result, rules, record) if out_dir else {}
    return Run(result=result, rules=rules, sources=sources, record=record, outputs=outputs)
