"""OpenSSH syslog (auth.log / secure): `Failed …` and `Accepted …` lines become login events.

Both the traditional BSD timestamp (`May  2 09:15:03`, no year: taken from --year or the file's
modification time) and RFC 3339 timestamps (rsyslog's high-precision format) are read.
`Invalid user X from …` lines only precede a `Failed … for invalid user X` line for the same
attempt, so they are not counted again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from . import Problems, check_ip, open_text

_BSD = re.compile(
    r"^(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) (?P<host>\S+) (?P<prog>[^\[:\s]+)(?:\[\d+\])?: (?P<msg>.*)$"
)
_ISO = re.compile(
    r"^(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?P<host>\S+) (?P<prog>[^\[:\s]+)(?:\[\d+\])?: (?P<msg>.*)$"
)
_FAILED = re.compile(
    r"^Failed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*?) from (?P<ip>\S+) port \d+(?: \S+)?\s*$"
)
_ACCEPTED = re.compile(r"^Accepted (?P<method>\S+) for (?P<user>\S+) from (?P<ip>\S+) port \d+(?: \S+)?")
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def looks_like_syslog(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    return bool(lines) and sum(bool(_BSD.match(ln) or _ISO.match(ln)) for ln in lines) >= max(1, len(lines) // 2)


def rows(path: Path, problems: Problems, year: int | None = None) -> Iterator[dict | None]:
    mtime = datetime.fromtimestamp(path.stat().st_mtime)
    base_year = year or mtime.year
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                yield None
                continue
            m = _BSD.match(line)
            if m:
                mon = _MONTHS.get(m["mon"])
                if mon is None:
                    problems.add(path, n, "ts", f"unknown month {m['mon']!r}")
                    continue
                # A December line in a file last written in January belongs to the year before.
                y = base_year - 1 if year is None and mon > mtime.month else base_year
                try:
                    ts = datetime(y, mon, int(m["day"]), *map(int, m["time"].split(":"))).isoformat()
                except ValueError as exc:
                    problems.add(path, n, "ts", str(exc))
                    continue
            else:
                m = _ISO.match(line)
                if not m:
                    problems.add(path, n, "line", f"not a syslog line: {line[:80]!r}")
                    continue
                iso = m["iso"].replace("Z", "+00:00")
                try:
                    ts = datetime.fromisoformat(iso).isoformat()
                except ValueError as exc:
                    problems.add(path, n, "ts", str(exc))
                    continue
            if not m["prog"].startswith("sshd"):
                yield None  # other programs share auth.log
                continue
            msg = m["msg"]
            hit = _FAILED.match(msg)
            ok = False
            if not hit:
                hit = _ACCEPTED.match(msg)
                ok = hit is not None
            if not hit:
                yield None  # session and connection messages
                continue
            ip = check_ip(hit["ip"])
            if ip is None:
                problems.add(path, n, "ip", f"not an IP address: {hit['ip'][:60]!r}")
                continue
            user = hit["user"].strip()
            if not user:
                problems.add(path, n, "account", "empty user name")
                continue
            yield {
                "ts": ts,
                "account": user,
                "ip": ip,
                "result": "success" if ok else "failure",
                "reason": None if ok else ("invalid_user" if hit.groupdict().get("invalid") else f"bad_{hit['method']}"),
                "channel": "ssh",
            }
