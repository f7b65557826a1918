"""Exposure: open ports in Nmap XML reports against the inventory's network zones and allowed ports."""

from __future__ import annotations

import re

from .assets import load_inventory
from .model import Check, Fact
from .scanners import read_nmap

SPLIT = r"[;,、\s]+"


def _hosts(inv: list[dict]) -> dict[str, dict]:
    """Inventory rows by address or host name (lower case), with zone and allowed ports."""
    out = {}
    for a in inv:
        row = a["row"]
        allowed = {x.strip().lower() for x in re.split(SPLIT, row.str("allowed_ports")) if x.strip()}
        for addr in re.split(SPLIT, row.str("ip")):
            if addr.strip():
                out[addr.strip().lower()] = a | {"zone": row.str("zone").lower(), "allowed": allowed}
    return out


def _allowed(port, allowed: set[str]) -> bool:
    return str(port.port) in allowed or f"{port.port}/{port.protocol}" in allowed


def analyze(ctx) -> list[Check]:
    ip = ctx.files["inventory"][0]
    hosts = _hosts(load_inventory(ip, ctx.rel(ip)))
    # one bad report is recorded (file, line, field) and never hides the others
    scans = [s for p in ctx.files["scans"] if (s := ctx.read(p, read_nmap, p, ctx.rel(p))) is not None]
    files = [ip, *ctx.files["scans"]]
    checks = []
    if "dmz_cleartext" in ctx.active:
        p = ctx.params("dmz_cleartext")
        zones = {z.lower() for z in p["zones"]}
        bad_names = {s.lower() for s in p["services"]}
        bad_ports = {int(x) for x in p["ports"]}
        facts = []
        for s in scans:
            for addr, port in s.open_ports():
                a = hosts.get(addr.lower())
                if a is None or a["zone"] not in zones:
                    continue
                if port.service.lower() in bad_names or port.port in bad_ports:
                    facts.append(Fact(f"{addr} ({a['id']} {a['name']}, zone {a['zone']}): {port.port}/{port.protocol} "
                                      f"{port.service or '?'} open — clear-text or file-sharing service in the DMZ",
                                      file=s.file, subject=addr, date=s.date.isoformat()))
        checks.append(ctx.check("dmz_cleartext", facts, "no clear-text or file-sharing service open in the DMZ",
                                "{n} clear-text or file-sharing service(s) open in the DMZ", files))
    if "unexpected_ports" in ctx.active:
        facts = []
        for s in scans:
            for h in s.hosts:
                a = hosts.get(h.address.lower()) or next((hosts[n.lower()] for n in h.names if n.lower() in hosts), None)
                opened = [pt for pt in h.ports if pt.state == "open"]
                if a is None:
                    if opened:
                        facts.append(Fact(f"{h.address}: {len(opened)} open port(s) on a host the inventory does not "
                                          f"list", file=s.file, subject=h.address, date=s.date.isoformat()))
                    continue
                if not a["allowed"]:
                    continue  # no allowed_ports recorded for this asset: nothing to compare against
                extra = [f"{pt.port}/{pt.protocol} {pt.service}".strip() for pt in opened if not _allowed(pt, a["allowed"])]
                if extra:
                    facts.append(Fact(f"{h.address} ({a['id']} {a['name']}): open but not in allowed_ports: "
                                      f"{', '.join(extra)}", file=s.file, subject=h.address, date=s.date.isoformat()))
        checks.append(ctx.check("unexpected_ports", facts, "every open port is one the inventory allows",
                                "{n} host(s) with unexpected open ports", files))
    return checks
