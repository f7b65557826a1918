"""Antivirus on Get-MpComputerStatus output as Microsoft documents it (console list, UTF-8 and the UTF-16
that PowerShell 5.1's `>` writes) and on the documented CSV for other consoles."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from tests.checks.conftest import run, write

DATA = Path(__file__).parent / "data" / "antivirus"
AS_OF = dt.date(2025, 6, 30)
INV = "asset_id,name,type,owner,classification,last_reviewed,ip,os\n"


def _copy(ev, src: str, host: str, **changes) -> None:
    text = (DATA / src).read_bytes()
    enc = "utf-16" if text.startswith(b"\xff\xfe") else "utf-8"
    s = text.decode(enc)
    for key, value in changes.items():  # one value changed per test, as a host in that state would print it
        lines = [ln if not ln.startswith(key + " ") else ln.split(":")[0] + ": " + value for ln in s.splitlines()]
        s = "\r\n".join(lines) if enc == "utf-16" else "\n".join(lines)
    (ev / "antivirus").mkdir(parents=True, exist_ok=True)
    (ev / "antivirus" / f"{host}.txt").write_bytes(s.encode(enc) if enc == "utf-8" else s.encode("utf-16"))


def test_microsoft_docs_output_passes(ev):
    ev.mkdir(parents=True)
    (ev / "antivirus").mkdir()
    shutil.copy(DATA / "mpstatus_ms_docs.txt", ev / "antivirus" / "WEB01.txt")
    shutil.copy(DATA / "mpstatus_ms_docs_utf16.txt", ev / "antivirus" / "DB01.txt")
    write(ev, "assets/inventory.csv", INV + "S1,WEB01,system,IT,,2025-01-01,10.0.0.1,Windows Server 2019\n"
                                            "S2,DB01,system,IT,,2025-01-01,10.0.0.2,Windows Server 2022\n"
                                            "S3,LNX01,system,IT,,2025-01-01,10.0.0.3,Ubuntu 22.04\n")
    checks, rec = run("antivirus", ev, AS_OF)
    assert {r: c.status.value for r, c in checks.items()} == {"signatures": "pass", "realtime": "pass",
                                                             "coverage": "pass"}, rec
    assert "2 host(s)" in checks["signatures"].summary


def test_stale_signatures_realtime_off_and_missing_host(ev):
    _copy(ev, "mpstatus_ms_docs_utf16.txt", "WEB01", AntivirusSignatureAge="41", RealTimeProtectionEnabled="False")
    _copy(ev, "mpstatus_ms_docs.txt", "DB01", AntivirusEnabled="False")
    write(ev, "assets/inventory.csv", INV + "S1,WEB01,system,IT,,2025-01-01,10.0.0.1,Windows Server 2019\n"
                                            "S2,DB01,system,IT,,2025-01-01,10.0.0.2,Windows Server 2022\n"
                                            "S4,PC-17,pc,IT,,2025-01-01,10.0.2.17,Windows 11 Pro\n")
    checks, _ = run("antivirus", ev, AS_OF)
    sig = sorted(f.message for f in checks["signatures"].facts)
    assert sig == ["DB01: antivirus engine disabled (AntivirusEnabled False)",
                   "WEB01: signatures 41 days old (at most 7)"]
    assert [f.subject for f in checks["realtime"].facts] == ["WEB01"]
    cov = checks["coverage"].facts
    assert [f.subject for f in cov] == ["S4"] and cov[0].line == 4


def test_other_console_csv_and_a_bad_file(ev):
    write(ev, "antivirus/console.csv", "host,realtime_protection,signature_updated\n"
                                       "10.0.0.1,yes,2025-06-29\n10.0.0.2,no,2025-05-01\n")
    write(ev, "antivirus/broken.txt", "hello\n")
    checks, rec = run("antivirus", ev, AS_OF)
    assert [f.subject for f in checks["signatures"].facts] == ["10.0.0.2"]
    assert "60 days old" in checks["signatures"].facts[0].message
    assert [f.subject for f in checks["realtime"].facts] == ["10.0.0.2"]
    assert rec["errors"][0]["file"] == "antivirus/broken.txt"
    assert checks["realtime"].unusable
