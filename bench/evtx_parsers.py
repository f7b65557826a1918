"""EVTX parsers compared: python-evtx and the Rust-based `evtx` package (not in CI).

Two measurements, figures printed (docs/logins.md keeps them):

  corpus FILES...   for each file: records its chunk headers promise, records each parser delivers,
                    parse errors, seconds; then the totals. python-evtx renders each record's XML
                    (what a reader needs); the Rust parser renders JSON (what ccinspect reads).
  speed SOURCE      builds a large file by repeating the chunks of SOURCE (a real Security log; chunks
                    are self-contained, so the copy is a valid EVTX file), then in fresh processes:
                    the Rust parser alone, python-evtx alone on the first --py-records records (it
                    manages a few hundred a second), and `ccinspect logins scan` on the whole file
                    (the whole process: start-up, parser, login meaning, engine, outputs).

  .venv/bin/pip install python-evtx==0.8.1     # the bench extra; ccinspect itself does not need it
  .venv/bin/python bench/evtx_parsers.py corpus samples/*.evtx
  .venv/bin/python bench/evtx_parsers.py speed samples/security.evtx --chunks 1000
"""

from __future__ import annotations

import argparse
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ccinspect.detection.adapters import evtxfile  # noqa: E402


def py_evtx(path: Path, limit: int | None = None) -> tuple[int, int]:
    """(records rendered, errors) with python-evtx, as its users read a file: chunk by chunk, XML."""
    from Evtx.Evtx import Evtx

    n = err = 0
    try:
        with Evtx(str(path)) as log:
            for chunk in log.chunks():
                try:
                    for rec in chunk.records():
                        try:
                            rec.xml()
                            n += 1
                        except Exception:  # noqa: BLE001 - counted, as a reader would
                            err += 1
                        if limit and n >= limit:
                            return n, err
                except Exception:  # noqa: BLE001
                    err += 1
    except Exception:  # noqa: BLE001
        err += 1
    return n, err


def rs_evtx(path: Path) -> tuple[int, int]:
    """(records, errors) with the Rust parser, JSON rendered, as ccinspect reads it."""
    read = evtxfile.EvtxRead(evtxfile.structure(path))
    for _ in evtxfile.records(path, read, wanted=None):
        pass
    return read.records, len(read.errors)


def corpus(files: list[Path]) -> None:
    tot = dict(promised=0, py=0, py_err=0, py_s=0.0, rs=0, rs_err=0, rs_s=0.0)
    print(f"{'file':58} {'promised':>8} {'python-evtx':>16} {'s':>7} {'evtx (Rust)':>16} {'s':>6}")
    for f in files:
        st = evtxfile.structure(f)
        t = time.perf_counter()
        py, py_err = py_evtx(f)
        py_s = time.perf_counter() - t
        t = time.perf_counter()
        rs, rs_err = rs_evtx(f)
        rs_s = time.perf_counter() - t
        print(f"{f.name[:58]:58} {st.promised:8,} {py:9,} ({py_err:3} err) {py_s:7.2f} {rs:9,} ({rs_err:3} err) {rs_s:6.3f}",
              flush=True)
        for k, v in dict(promised=st.promised, py=py, py_err=py_err, py_s=py_s, rs=rs, rs_err=rs_err, rs_s=rs_s).items():
            tot[k] += v
    print(f"\n{len(files)} files, {tot['promised']:,} records promised by the chunk headers")
    for name, k in (("python-evtx", "py"), ("evtx (Rust)", "rs")):
        rate = tot[k] / tot[f"{k}_s"] if tot[f"{k}_s"] else 0
        print(f"  {name:12} read {tot[k]:,} (lost {tot['promised'] - tot[k]:,}), {tot[f'{k}_err']:,} errors, "
              f"{tot[f'{k}_s']:.2f} s = {rate:,.0f} records/s")


def build(source: Path, out: Path, chunks: int) -> int:
    """A valid EVTX file of `chunks` chunks, the source's chunks over and over; returns its records."""
    data = source.read_bytes()
    src = [data[o:o + evtxfile.CHUNK_SIZE] for o in range(evtxfile.HEADER_SIZE, len(data), evtxfile.CHUNK_SIZE)
           if data[o:o + 8] == evtxfile.CHUNK_MAGIC]
    head = bytearray(data[:evtxfile.HEADER_SIZE])
    struct.pack_into("<QQ", head, 0x08, 0, chunks - 1)        # first and last chunk number
    struct.pack_into("<H", head, 0x2A, chunks)                 # chunk count
    struct.pack_into("<I", head, 0x78, head[0x78] & ~1)        # not dirty
    struct.pack_into("<I", head, 0x7C, zlib.crc32(head[:0x78]))
    with out.open("wb") as f:
        f.write(head)
        for i in range(chunks):
            f.write(src[i % len(src)])
    return evtxfile.structure(out).promised


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of a fresh process, and its CPU seconds and the load average before it (the machine
    is shared: CPU time says what the work costs when wall time is stretched by other people's jobs)."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in (0, 1, 3):
        raise SystemExit(f"{cmd}: exit {r.returncode}\n{r.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dt, f"CPU {cpu:.2f} s, load {load:.2f}"


def speed(source: Path, chunks: int, py_records: int) -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-evtx-") as d:
        big = Path(d) / "Security-big.evtx"
        n = build(source, big, chunks)
        print(f"{big.name}: {chunks} chunks of {source.name}, {n:,} records, {big.stat().st_size / 2**20:.1f} MiB")
        rs_s, rs_load = timed([py, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
                                         f"import evtx_parsers as b; from pathlib import Path; print(b.rs_evtx(Path({str(big)!r})))"])
        print(f"  evtx (Rust), JSON, parser alone:     {rs_s:6.2f} s = {n / rs_s:10,.0f} records/s  ({rs_load})")
        py_s, py_load = timed([py, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
                                         f"import evtx_parsers as b; from pathlib import Path; "
                                         f"print(b.py_evtx(Path({str(big)!r}), {py_records}))"])
        print(f"  python-evtx, XML, first {py_records:,} records: {py_s:6.2f} s = {py_records / py_s:10,.0f} records/s  ({py_load})")
        roster = Path(d) / "roster.csv"
        roster.write_text("account\nadministrator\n", encoding="utf-8")
        sc_s, sc_load = timed([py, "-m", "ccinspect.cli", "logins", "scan", str(big), "--customers", str(roster),
                               "--format", "json", "-q", "--out", str(Path(d) / "out")])
        print(f"  ccinspect logins scan (whole process): {sc_s:6.2f} s = {n / sc_s:10,.0f} records/s  ({sc_load})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("files", nargs="+", type=Path)
    s = sub.add_parser("speed")
    s.add_argument("source", type=Path)
    s.add_argument("--chunks", type=int, default=1000)
    s.add_argument("--py-records", type=int, default=2000)
    a = ap.parse_args()
    if a.cmd == "corpus":
        corpus(sorted(a.files))
    else:
        speed(a.source, a.chunks, a.py_records)


if __name__ == "__main__":
    main()
