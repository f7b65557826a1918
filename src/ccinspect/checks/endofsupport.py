"""End of support: the inventory's operating systems and software against a dated end-of-life table, and
products of brands on the list of products endangering national cyber security (危害國家資通安全產品)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from .assets import load_inventory
from .model import Check, EvidenceError, Fact

REFERENCE = Path(__file__).with_name("reference")
SEPARATORS = r"[;；、\n]"


def _table(ctx, role: str, shipped: str, key: str, name: str) -> tuple[list[dict], str, list[Path]]:
    """The shipped table, with the evidence folder's own (reference/…) replacing entries by name."""
    base = yaml.safe_load((REFERENCE / shipped).read_text(encoding="utf-8"))
    entries = {e[name]: e for e in base[key]}
    label = f"{shipped} compiled {base['compiled']}"
    used: list[Path] = []
    for p in ctx.files.get(role, []):
        shown = ctx.rel(p)
        try:
            own = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise EvidenceError(shown, getattr(getattr(exc, "problem_mark", None), "line", -1) + 1, "(file)",
                                f"not valid UTF-8 YAML: {exc}") from None
        if not isinstance(own, dict) or not isinstance(own.get(key), list):
            raise EvidenceError(shown, 1, key, f"expected a mapping with a list `{key}` (layout of {shipped})")
        for n, e in enumerate(own[key], 1):
            if not isinstance(e, dict) or not e.get(name) or not e.get("match"):
                raise EvidenceError(shown, 0, f"{key}[{n}]", f"each entry needs `{name}` and `match`")
            entries[e[name]] = e
        label += f" + {shown} compiled {own.get('compiled', '?')}"
        used.append(p)
    out = []
    for e in entries.values():
        try:
            out.append(e | {"re": re.compile(e["match"], re.IGNORECASE)})
        except re.error as exc:
            raise EvidenceError(label, 0, "match", f"{e[name]}: bad regular expression ({exc})") from None
    return out, label, used


def _items(row) -> list[tuple[str, str]]:
    """(column, text) of what the asset runs: its os and each software item."""
    out = [("os", row.str("os"))] if row.str("os") else []
    out += [("software", s.strip()) for s in re.split(SEPARATORS, row.str("software")) if s.strip()]
    return out


def _eos_date(e: dict, shown: str) -> dt.date:
    v = e.get("end_of_support")
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise EvidenceError(shown, 0, "end_of_support", f"{e.get('product')}: {v!r} is not a date") from None


def analyze(ctx) -> list[Check]:
    ip = ctx.files["inventory"][0]
    inv = load_inventory(ip, ctx.rel(ip))
    cols = set(inv[0]["row"].values) if inv else set()
    checks = []
    if "end_of_support" in ctx.active and not cols & {"os", "software"}:
        checks.append(ctx.check("end_of_support", [], "", "", [ip], manual=f"{ctx.rel(ip)} has no os or software "
                                "column: nothing to compare with the end-of-life table"))
    elif "end_of_support" in ctx.active:
        p = ctx.params("end_of_support")
        table, label, used = _table(ctx, "eol_table", "eol.yaml", "products", "product")
        soon = ctx.as_of + dt.timedelta(days=int(p["warn_days"]))
        facts, planned, upcoming = [], 0, []
        for a in inv:
            row = a["row"]
            for col, text in _items(row):
                for e in table:
                    if not e["re"].search(text):
                        continue
                    end = _eos_date(e, label)
                    if end <= ctx.as_of:
                        plan = row.str(p["plan_column"])
                        if plan:
                            planned += 1
                        else:
                            facts.append(Fact(f"{a['id']} {a['name']}: {col} {text!r} is {e['product']}, out of "
                                              f"support since {end} ({e.get('source', label)}); no evaluated "
                                              f"replacement or upgrade plan ({p['plan_column']} empty)",
                                              file=row.file, line=row.line, subject=a["id"], date=end.isoformat()))
                    elif end <= soon:
                        upcoming.append(f"{a['id']} {e['product']} ({end})")
                    break
        note = f"; table: {label}" + (f"; {planned} past end of support with a plan" if planned else "") + \
            (f"; ending within {p['warn_days']} days: {', '.join(upcoming)}" if upcoming else "")
        checks.append(ctx.check("end_of_support", facts,
                                f"no asset runs an unsupported product without a plan{note}",
                                "{n} asset item(s) out of support without a plan" + note, [ip, *used]))
    named = [c for c in ctx.params("endangering_products")["columns"] if c in cols and c != "name"]
    if "endangering_products" in ctx.active and not named:
        checks.append(ctx.check("endangering_products", [], "", "", [ip], manual=f"{ctx.rel(ip)} has no vendor, "
                                "model, os or software column: brands cannot be compared with the list"))
    elif "endangering_products" in ctx.active:
        brands, label, used = _table(ctx, "banned_list", "endangering_products.yaml", "brands", "brand")
        facts = []
        for a in inv:
            row = a["row"]
            for col in ctx.params("endangering_products")["columns"]:
                text = row.str(col)
                hit = next((b for b in brands if text and b["re"].search(text)), None)
                if hit:
                    facts.append(Fact(f"{a['id']} {a['name']}: {col} {text!r} is a {hit['brand']} product "
                                      f"(危害國家資通安全產品 list: {label})", file=row.file, line=row.line,
                                      subject=a["id"]))
                    break
        checks.append(ctx.check("endangering_products", facts,
                                f"no inventory item matches the list ({label})",
                                f"{{n}} asset(s) of a listed brand ({label})", [ip, *used]))
    return checks



