"""Coverage: how each requirement and focus point is evidenced, joined from the data files.

Automated and records come from the analyzers' rules (rules.yaml, each analyzer's method in
coverage.yaml); attestation from the questionnaire topics (attestation/topics.yaml). Nothing here
names a requirement: the data does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from ccinspect.attestation import load_topics

from .rules import load_rules

COVERAGE_FILE = Path(__file__).with_name("coverage.yaml")
Method = Literal["automated", "records", "attestation"]
ORDER: tuple[str, ...] = ("automated", "records", "attestation")
FRAMEWORKS = ("mechanism", "internal-control")


class CoverageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    analyzers: dict[str, Literal["automated", "records"]]


@lru_cache(maxsize=1)
def load_spec() -> CoverageSpec:
    return CoverageSpec.model_validate(yaml.safe_load(COVERAGE_FILE.read_text(encoding="utf-8")))


def applicable(req) -> bool:
    """A node the inspector checks: it states something itself and is not a pure heading."""
    return bool(req.assessable) and req.obligation != "none"


@dataclass
class Entry:
    method: str | None
    analyzers: list[str] = field(default_factory=list)  # "analyzer.rule"
    attestation: list[str] = field(default_factory=list)  # topic ids


def _best(methods) -> str | None:
    ms = set(methods)
    return next((m for m in ORDER if m in ms), None)


def build(cat=None, rules=None, topics=None, spec=None) -> dict:
    """{"requirements": [...], "focus_points": [...], "totals": {...}} for the versions in force."""
    if cat is None:
        from ccinspect.catalog import load_catalog

        cat = load_catalog()
    rules = rules or load_rules()
    topics = topics or load_topics()
    spec = spec or load_spec()
    missing = set(rules.analyzers) - set(spec.analyzers)
    if missing:
        raise ValueError(f"coverage.yaml names no method for analyzer(s) {sorted(missing)}")
    check_references(cat, topics)

    reqs: list[dict] = []
    by_mech: dict[str, Entry] = {}
    for fw in FRAMEWORKS:
        fv = cat.version(fw)
        for r in fv.requirements:
            if not applicable(r):
                continue
            e = Entry(None)
            methods = []
            if fw == "mechanism":
                for aid, rid, _ in rules.rules_for(r.ref_id, include_live=True):
                    e.analyzers.append(f"{aid}.{rid}")
                    methods.append(spec.analyzers[aid])
            for t in topics.topics:
                if t.covers(fw, r.ref_id):
                    e.attestation.append(t.id)
                    methods.append("attestation")
            e.method = _best(methods)
            if fw == "mechanism":
                by_mech[r.ref_id] = e
            reqs.append({"framework": fw, "ref_id": r.ref_id, "method": e.method,
                         "analyzers": e.analyzers, "attestation": e.attestation,
                         "text": r.text, "text_en": r.text_en})

    fps: list[dict] = []
    for p in cat.focus_points.points:
        analyzers = sorted({a for ref in p.ref_ids if ref in by_mech for a in by_mech[ref].analyzers})
        topic_ids = [t.id for t in topics.topics if p.id in t.focus_points]
        methods = [spec.analyzers[a.split(".")[0]] for a in analyzers]
        methods += ["attestation"] if topic_ids else []
        fps.append({"id": p.id, "area": p.area, "area_en": p.area_en, "method": _best(methods),
                    "ref_ids": list(p.ref_ids), "analyzers": analyzers, "attestation": topic_ids,
                    "text": p.text, "text_en": p.text_en})
    return {"requirements": reqs, "focus_points": fps, "totals": totals(reqs, fps)}


def check_references(cat, topics) -> None:
    """Every ref_id, scope node and focus point a topic names exists in the catalog."""
    points = {p.id for p in cat.focus_points.points}
    for t in topics.topics:
        fv = cat.version(t.framework)
        for ref in t.ref_ids + t.scope:
            if ref not in fv:
                raise ValueError(f"attestation topic {t.id}: no {ref} in {t.framework} {fv.id}")
        for pid in t.focus_points:
            if pid not in points:
                raise ValueError(f"attestation topic {t.id}: no focus point {pid}")


def totals(reqs: list[dict], fps: list[dict]) -> dict:
    def count(items):
        out = {m: 0 for m in ORDER} | {"none": 0, "total": len(items)}
        for i in items:
            out[i["method"] or "none"] += 1
        return out

    return {"requirements": count(reqs), "focus_points": count(fps)}


def markdown(cov: dict) -> str:
    """The generated docs page (docs/coverage.md)."""
    t = cov["totals"]
    lines = [
        "# Coverage: how each requirement and focus point is evidenced / 查核項目之佐證方式",
        "",
        "Generated by `ccinspect catalog coverage --format markdown`; do not edit by hand. Methods:",
        "**automated** (an analyzer reads the systems' own exports), **records** (an analyzer checks records",
        "the broker keeps in a documented layout, docs/evidence.md), **attestation** (a structured",
        "questionnaire with documents and a reviewer's sign-off, `ccinspect attest`).",
        "",
        "| | automated | records | attestation | none | total |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k in ("requirements", "focus_points"):
        c = t[k]
        lines.append(f"| {k} | {c['automated']} | {c['records']} | {c['attestation']} | {c['none']} | {c['total']} |")
    lines += ["", "## Focus points / 查核重點", "", "| id | focus point | method | analyzers | attestation |",
              "| --- | --- | --- | --- | --- |"]
    for p in cov["focus_points"]:
        lines.append(f"| {p['id']} | {_cell(p['text'])} | {p['method'] or '—'} | {', '.join(p['analyzers'])} | "
                     f"{', '.join(p['attestation'])} |")
    lines += ["", "## Requirements / 條文", "", "| framework | ref_id | method | analyzers | attestation |",
              "| --- | --- | --- | --- | --- |"]
    for r in cov["requirements"]:
        lines.append(f"| {r['framework']} | {r['ref_id']} | {r['method'] or '—'} | {', '.join(r['analyzers'])} | "
                     f"{', '.join(r['attestation'])} |")
    return "\n".join(lines) + "\n"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")
