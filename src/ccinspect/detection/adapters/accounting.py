"""Per-file accounting: every line of every input is a login event, not a login event (by kind) or malformed.

A reader gets one `FileAccount` per file and calls exactly one of `event`, `skip`, `bad` or `damaged` for
each line (or record) it reads. The account then says what the file gave, what was lost and why, and
whether the run lost enough of it to exit "partial" (core.exitcodes.ExitCode.PARTIAL).

Every event carries its source reference (`source_file`, `source_line`; see docs/logins.md):
`source_line` is a 1-based physical line number where the record starts ("17"), `record:<N>` where
lines do not apply (EVTX), with `#k` for the k-th event of one line ("17#2": `message repeated`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Problems

MAX_SAMPLES = 20          # malformed line samples kept per file
MOSTLY = 0.5              # more than this share of a file's lines malformed: "mostly unreadable"
MAX_ACCOUNT = 256         # longer account names are cut (and flagged)
FUTURE_SKEW_SECONDS = 300  # clocks drift: an event up to 5 minutes ahead of the run is not "future"

# C0/C1 controls, DEL, and the invisible or direction-changing marks that make a name read as another.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_account(name: str) -> tuple[str, list[str]]:
    """(safe text, flags): control and bidi characters become visible escapes, very long names are cut."""
    flags = []
    if _UNSAFE.search(name):
        name = _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", name)
        flags.append("escaped")
    if len(name) > MAX_ACCOUNT:
        name = name[:MAX_ACCOUNT]
        flags.append("truncated")
    return name, flags


@dataclass
class FileAccount:
    """What one input file gave. `status`: ok | empty | partial | unreadable."""

    file: str
    format: str = "?"
    detected_by: str = "content"        # content | option (--input-format) | mapping
    encoding: str | None = None
    lines: int = 0                      # lines (or records) read, blank ones included
    blank: int = 0
    successes: int = 0
    failures: int = 0
    not_login: Counter = field(default_factory=Counter)
    malformed: int = 0
    samples: list[dict] = field(default_factory=list)
    damaged_lines: int = 0
    damage: list[str] = field(default_factory=list)
    future: int = 0
    flagged: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    error: dict | None = None
    unsplit_events: int | None = None   # canonical CSV: DuckDB counts events, not per file and result
    now: datetime | None = None
    problems: Problems | None = field(default=None, repr=False)
    context: list[dict] = field(default_factory=list, repr=False)  # events that explain alerts (Windows 4648)

    # ------------------------------------------------------------ what readers call
    def event(self, row: dict, line: int | str, k: int = 1) -> dict:
        """Count a login event and give it its source reference and flags; returns the row."""
        ref = str(line) if k == 1 else f"{line}#{k}"
        flags = row.get("flags") or []
        acct, more = escape_account(row["account"])
        if more:
            row["account"] = acct
            flags = [*flags, *more]
            for f in more:
                self.flagged[f] += 1
        if row.pop("_future", False):  # readers compare with Clock.limit: after the run (plus skew)
            flags = [*flags, "future"]
            self.future += 1
        row["flags"] = ";".join(flags)
        row["source_file"] = self.file
        row["source_line"] = ref
        if row["result"] == "success":
            self.successes += 1
        else:
            self.failures += 1
        return row

    def skip(self, kind: str, n: int = 1) -> None:
        """Not a login event: `kind` says what it was (other_program, session, blank, …)."""
        self.not_login[kind] += n

    def promote(self, kind: str) -> None:
        """A line first counted as not a login event turned out to be one (decided at the end of the file)."""
        if self.not_login.get(kind, 0) > 0:
            self.not_login[kind] -= 1
            if not self.not_login[kind]:
                del self.not_login[kind]

    def bad(self, line: int | str, fld: str, reason: str, n: int = 1) -> None:
        """Malformed: `reason` names the format that was tried."""
        self.malformed += n
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append({"line": line, "field": fld, "reason": reason})
        if self.problems is not None:
            self.problems.add(self.file, line, fld, reason, n, _account=False)

    def damaged(self, line: int | str, reason: str, n: int = 1) -> None:
        """Bytes that could not be read at all (bad encoding, truncated compression, damaged records)."""
        self.damaged_lines += n
        if len(self.damage) < MAX_SAMPLES:
            self.damage.append(f"{line}: {reason}")
        if self.problems is not None:
            self.problems.add(self.file, line, "bytes", reason, n, _account=False)

    # ------------------------------------------------------------ verdict
    @property
    def events(self) -> int:
        if self.unsplit_events is not None:
            return self.unsplit_events
        return self.successes + self.failures

    @property
    def content_lines(self) -> int:
        return self.lines - self.blank

    @property
    def mostly_malformed(self) -> bool:
        bad = self.malformed + self.damaged_lines
        return bad > 0 and bad > MOSTLY * max(self.content_lines, 1)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "unreadable"
        if self.damaged_lines or self.mostly_malformed:
            return "partial"
        if self.content_lines == 0 and self.events == 0:
            return "empty"
        return "ok"

    @property
    def lost(self) -> int:
        """Lines that gave nothing usable (malformed or damaged)."""
        return self.malformed + self.damaged_lines

    def finish(self) -> None:
        """Write the warnings the verdict calls for (called once, after the reader is done)."""
        st = self.status
        if st == "empty":
            self.warnings.append("empty file: no lines to read")
        elif self.mostly_malformed:
            self.warnings.append(
                f"{self.lost} of {self.content_lines} lines could not be read as {self.format}: is this the right "
                "format? Use --input-format to choose another")
        if self.damaged_lines:
            self.warnings.append(f"damaged: {self.damaged_lines} line(s) or record(s) could not be decoded")
        if self.future:
            self.warnings.append(f"{self.future} event(s) dated after the run (flagged 'future'): check the clock "
                                 "of the source or --timezone")
        if self.flagged.get("escaped"):
            self.warnings.append(f"{self.flagged['escaped']} account name(s) held control or direction characters "
                                 "(shown escaped, flagged 'escaped')")

    def as_dict(self) -> dict:
        d = {
            "file": self.file, "format": self.format, "detected_by": self.detected_by, "encoding": self.encoding,
            "status": self.status, "lines": self.lines, "events": self.events,
            "failures": None if self.unsplit_events is not None else self.failures,
            "successes": None if self.unsplit_events is not None else self.successes, "not_login": dict(sorted(self.not_login.items())),
            "malformed": self.malformed, "damaged": self.damaged_lines, "lost": self.lost,
            "lost_share": round(self.lost / self.content_lines, 4) if self.content_lines else 0.0,
            "malformed_samples": self.samples, "damage_samples": self.damage, "future_events": self.future,
            "flagged_accounts": dict(self.flagged), "warnings": self.warnings,
        }
        if self.error is not None:
            d["error"] = self.error
        return d
