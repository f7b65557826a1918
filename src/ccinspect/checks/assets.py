"""Asset inventory: owners, upkeep, and core / non-core classification of information systems."""

from __future__ import annotations

from pathlib import Path

from .evidence import read_csv
from .model import Check, Fact

CLASSES = {"core", "non-core", "noncore", "non_core", "核心", "非核心", ""}


def load_inventory(path: Path, shown: str) -> list[dict]:
    out = []
    for r in read_csv(path, shown, ["asset_id", "name", "type", "owner", "classification", "last_reviewed"]):
        cls = r.choice("classification", CLASSES, required=False)
        cls = "core" if cls in ("core", "核心") else "non-core" if cls else ""
        out.append({"id": r.str("asset_id", required=True), "name": r.str("name"), "type": r.str("type").lower(),
                    "owner": r.str("owner"), "classification": cls,
                    "classification_reviewed": r.date("classification_reviewed", required=False),
                    "last_reviewed": r.date("last_reviewed", required=False), "row": r})
    return out


def _fact(a: dict, message: str, date=None) -> Fact:
    return Fact(f"{a['id']} {a['name']}: {message}", file=a["row"].file, line=a["row"].line, subject=a["id"],
                date=date.isoformat() if date else None)


def analyze(ctx) -> list[Check]:
    path = ctx.files["inventory"][0]
    inv = load_inventory(path, ctx.rel(path))
    checks = []
    if "owners" in ctx.active:
        facts = [_fact(a, "no owner") for a in inv if not a["owner"]]
        checks.append(ctx.check("owners", facts, f"all {len(inv)} assets name an owner",
                                "{n} asset(s) without an owner", [path]))
    if "maintained" in ctx.active:
        m = int(ctx.params("maintained")["review_months"])
        limit = ctx.months_ago(m)
        facts = []
        for a in inv:
            if a["last_reviewed"] is None:
                facts.append(_fact(a, "never reviewed (last_reviewed empty)"))
            elif a["last_reviewed"] < limit:
                facts.append(_fact(a, f"last reviewed {a['last_reviewed']}, more than {m} months ago",
                                   a["last_reviewed"]))
        checks.append(ctx.check("maintained", facts, f"all {len(inv)} assets reviewed within {m} months",
                                "{n} asset(s) not reviewed within the year", [path]))
    if "classification" in ctx.active:
        p = ctx.params("classification")
        m = int(p["review_months"])
        limit = ctx.months_ago(m)
        systems = [a for a in inv if a["type"] in set(p["system_types"])]
        facts = []
        for a in systems:
            if not a["classification"]:
                facts.append(_fact(a, "information system not classified core or non-core"))
            elif a["classification_reviewed"] is None or a["classification_reviewed"] < limit:
                when = a["classification_reviewed"]
                facts.append(_fact(a, f"classification ({a['classification']}) last reviewed "
                                      f"{when or 'never'}; at most {m} months allowed", when))
        n_core = sum(1 for a in systems if a["classification"] == "core")
        checks.append(ctx.check("classification", facts,
                                f"{len(systems)} systems classified ({n_core} core), reviewed within {m} months",
                                "{n} system classification finding(s)", [path]))
    return checks
