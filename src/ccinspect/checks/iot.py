"""IoT device inventory: yearly update, initial passwords changed, firmware kept current."""

from __future__ import annotations

from .evidence import read_csv
from .model import Check, Fact


def analyze(ctx) -> list[Check]:
    path = ctx.files["inventory"][0]
    rows = read_csv(path, ctx.rel(path), ["device_id", "type", "inventory_updated", "default_password_changed"])
    devices = [{"id": r.str("device_id", required=True), "type": r.str("type"),
                "updated": r.date("inventory_updated"), "pw_changed": r.bool("default_password_changed"),
                "firmware": r.date("firmware_updated", required=False),
                "compensating": r.str("compensating_control"), "row": r} for r in rows]
    checks = []

    def fact(d, msg, date=None):
        return Fact(f"{d['id']} ({d['type']}): {msg}", file=d["row"].file, line=d["row"].line, subject=d["id"],
                    date=date.isoformat() if date else None)

    if "inventory_and_passwords" in ctx.active:
        m = int(ctx.params("inventory_and_passwords")["update_months"])
        since = ctx.months_ago(m)
        facts = []
        newest = max((d["updated"] for d in devices), default=None)
        if newest is None or newest < since:
            facts.append(Fact(f"IoT inventory last updated {newest or 'never'}; at least every {m} months",
                              file=ctx.rel(path), date=newest.isoformat() if newest else None))
        facts += [fact(d, "initial (default) password not changed") for d in devices if not d["pw_changed"]]
        checks.append(ctx.check("inventory_and_passwords", facts,
                                f"inventory of {len(devices)} devices updated {newest}; all default passwords changed",
                                "{n} IoT inventory finding(s)", [path]))
    if "firmware_updates" in ctx.active:
        m = int(ctx.params("firmware_updates")["update_months"])
        since = ctx.months_ago(m)
        facts = [fact(d, f"firmware last updated {d['firmware'] or 'never'} and no compensating control", d["firmware"])
                 for d in devices if (d["firmware"] is None or d["firmware"] < since) and not d["compensating"]]
        checks.append(ctx.check("firmware_updates", facts,
                                f"all {len(devices)} devices updated within {m} months or compensated",
                                "{n} device(s) with stale firmware", [path]))
    return checks
