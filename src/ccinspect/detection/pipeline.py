"""One daily run: inputs -> adapters -> engine -> outputs and run record."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .adapters import Problems, Source, expand, prepare
from .adapters.jsonlog import load_mapping
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
    memory_limit: str = "1500MB",
    threads: int | None = None,
    on_progress=None,
    hash_inputs: bool = True,
) -> Run:
    started = datetime.now(TAIPEI)
    rules = load_rules(rules_path)
    paths = expand(patterns)
    problems = Problems()
    # Inputs are hashed on a side thread (hashlib releases the GIL) while DuckDB scans them.
    pool = ThreadPoolExecutor(max_workers=1)
    futures = {str(p): pool.submit(sha256_file, p) for p in paths} if hash_inputs else {}
    with tempfile.TemporaryDirectory(prefix="ccinspect-work-") as work:
        sources = prepare(paths, Path(work), problems, fmt=input_format,
                          mapping=load_mapping(mapping) if mapping else None, year=year)
        engine = Engine(rules, memory_limit=memory_limit, threads=threads, on_progress=on_progress)
        result = engine.scan(sources, customers, allow=allow, state=State(state_dir), problems=problems)
    hashes = {k: f.result() for k, f in futures.items()}
    pool.shutdown()
    finished = datetime.now(TAIPEI)
    record = run_record(
        result, rules, sources, started=started, finished=finished, hashes=hashes,
        args={"files": [str(p) for p in paths], "customers": str(customers), "allow": str(allow) if allow else None,
              "state": str(state_dir) if state_dir else None, "input_format": input_format,
              "mapping": str(mapping) if mapping else None},
    )
    outputs = write_outputs(Path(out_dir), result, rules, record) if out_dir else {}
    return Run(result=result, rules=rules, sources=sources, record=record, outputs=outputs)
