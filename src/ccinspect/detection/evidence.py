"""The events behind each alert, located as the readers report them (file and line or record id)."""

from __future__ import annotations

import csv

from .adapters import Source, open_text

# Alerts about one account's logins match on (account, address); the others on the address.
BY_PAIR = ("brute_force", "account_takeover", "new_source")
# A takeover is its successes (the attack behind it is the evidence of the attacker's own alert).
SUCCESS_ONLY = ("account_takeover", "new_source")


def attach_evidence(alerts, sources: list[Source], limit: int) -> None:
    """Fill `alert.evidence` with the first `limit` matching events and `evidence_total` with all of them.

    Converted inputs carry `source_file`/`source_line` (the reader's own reference); canonical CSV
    given directly is its own source, its line counted here. One pass over the inputs for all alerts."""
    if not alerts:
        return
    by_ip: dict[str, list] = {}
    for a in alerts:
        a.evidence, a.evidence_total = [], 0
        accts = set(a.accounts) if a.kind in BY_PAIR else None
        only_ok = a.kind in SUCCESS_ONLY
        for ip in a.ips:
            by_ip.setdefault(ip, []).append((a, accts, only_ok))
    for s in sources:
        with open_text(s.path) as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            try:
                i_ip, i_acct, i_ts, i_res = (header.index(c) for c in ("ip", "account", "ts", "result"))
            except ValueError:
                continue
            i_sf = header.index("source_file") if "source_file" in header else None
            i_sl = header.index("source_line") if "source_line" in header else None
            width = len(header)
            for rec in reader:
                if len(rec) != width:
                    continue
                hits = by_ip.get(rec[i_ip].strip())
                if not hits:
                    continue
                for a, accts, only_ok in hits:
                    if accts is not None and rec[i_acct].strip() not in accts:
                        continue
                    if only_ok and rec[i_res].strip() != "success":
                        continue
                    a.evidence_total += 1
                    if len(a.evidence) < limit:
                        a.evidence.append({
                            "file": rec[i_sf] if i_sf is not None else str(s.origin),
                            "line": rec[i_sl] if i_sl is not None else str(reader.line_num),
                            "ts": rec[i_ts], "account": rec[i_acct], "ip": rec[i_ip], "result": rec[i_res],
                        })
