"""An analyst's verdict on a login alert, and the book of verdicts the next runs honour.

One model for every store: the CLI keeps verdicts in `--state DIR/verdicts.jsonl`, the web app in its
database (through `Verdict.to_dict` / `Verdict.from_dict`). The engine only reads `VerdictBook`.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

from ccinspect.core.errors import InputError

# confirmed: a real attack (kept as evidence); false_positive: recorded, later alerts of the same
# kind on the same addresses and accounts are marked; allow / test_traffic: the address or network
# is suppressed from then on (the broker's gateway, a penetration test, the monitors).
VERDICTS = ("confirmed", "false_positive", "allow", "test_traffic")
SUPPRESSING = ("allow", "test_traffic")
FILE = "verdicts.jsonl"


@dataclass
class Verdict:
    alert_id: str
    verdict: str
    decided_by: str
    decided_at: str  # ISO 8601 with offset
    kind: str = ""  # the alert's kind (brute_force, account_takeover, ...)
    ips: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    network: str = ""  # address or CIDR block for allow / test_traffic
    note: str = ""
    run: str = ""  # the run that raised the alert (e.g. its first event time or run id)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise InputError(f"verdict: expected one of {', '.join(VERDICTS)}, got {self.verdict!r}",
                             field="verdict", expected=" | ".join(VERDICTS))
        if not self.decided_by.strip():
            raise InputError("verdict: who decided (decided_by) is required", field="decided_by")
        try:
            at = datetime.fromisoformat(self.decided_at)
        except ValueError:
            raise InputError(f"verdict: decided_at is not an ISO 8601 time: {self.decided_at!r}",
                             field="decided_at") from None
        if at.tzinfo is None:
            raise InputError(f"verdict: decided_at needs an offset: {self.decided_at!r}", field="decided_at")
        if self.verdict in SUPPRESSING:
            if not self.network:
                if len(self.ips) != 1:
                    raise InputError(f"verdict {self.verdict}: give the address or network to allow", field="network")
                self.network = self.ips[0]
            try:
                self.network = str(ipaddress.ip_network(self.network, strict=False))
            except ValueError:
                raise InputError(f"verdict: not an address or CIDR block: {self.network!r}", field="network") from None

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        known = {f.name for f in fields(cls)}
        extra = set(d) - known
        if extra:
            raise InputError(f"verdict: unknown field(s) {', '.join(sorted(extra))}", field=sorted(extra)[0])
        return cls(**{k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in d.items()})

    def matches(self, kind: str, ips: list[str], accounts: list[str]) -> bool:
        """Same kind of alert on the same addresses or accounts (a false positive seen again)."""
        return kind == self.kind and bool(set(ips) & set(self.ips) or set(accounts) & set(self.accounts))


class VerdictBook:
    """The verdicts known to a run; `path` None means none (no --state)."""

    def __init__(self, verdicts: list[Verdict] | None = None, path: Path | None = None):
        self.verdicts = list(verdicts or [])
        self.path = path

    @classmethod
    def load(cls, state_dir: str | Path | None) -> VerdictBook:
        if not state_dir:
            return cls()
        p = Path(state_dir) / FILE
        out = []
        if p.exists():
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    out.append(Verdict.from_dict(json.loads(line)))
                except (ValueError, TypeError) as exc:
                    raise InputError(f"{p}: line {n}: {exc}", file=str(p), line=n) from exc
        return cls(out, p)

    def add(self, v: Verdict) -> None:
        """Append, rewriting the file under a temporary name then renaming it (never half-written)."""
        if self.path is None:
            raise InputError("verdicts need a --state directory")
        self.verdicts.append(v)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE}.tmp")
        tmp.write_text("".join(json.dumps(x.to_dict(), ensure_ascii=False) + "\n" for x in self.verdicts),
                       encoding="utf-8")
        os.replace(tmp, self.path)

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(v.network) for v in self.verdicts if v.verdict in SUPPRESSING]

    def false_positive(self, kind: str, ips: list[str], accounts: list[str]) -> Verdict | None:
        for v in reversed(self.verdicts):
            if v.verdict == "false_positive" and v.matches(kind, ips, accounts):
                return v
        return None
