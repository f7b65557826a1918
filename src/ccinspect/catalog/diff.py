"""What an amendment added, removed or reworded between two versions of a framework."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .loader import FrameworkVersion, Requirement

ATTRS = ("cadence", "obligation", "assessable", "applies_to", "effective_from", "title")
MOVE_THRESHOLD = 0.6  # similarity above which a clause's old text is taken to live on under another number


@dataclass
class Change:
    kind: str  # added | removed | reworded | changed
    ref_id: str
    old: Requirement | None
    new: Requirement | None
    fields: list[str] = field(default_factory=list)
    moved_to: str | None = None  # the old text lives on, reworded, at this ref_id
    moved_from: str | None = None

    def to_dict(self) -> dict:
        def side(r: Requirement | None) -> dict | None:
            if r is None:
                return None
            d = r.to_dict()
            return {k: d[k] for k in ("text", "text_en", "cadence", "obligation", "assessable",
                                      "applies_to", "effective_from")}
        return {
            "change": self.kind, "ref_id": self.ref_id, "fields": self.fields,
            "from": side(self.old), "to": side(self.new),
            "moved_to": self.moved_to, "moved_from": self.moved_from,
        }


def _attr(r: Requirement, name: str):
    if name == "applies_to":
        return r.applies_to_json()
    return getattr(r, name)


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def diff_versions(old: FrameworkVersion, new: FrameworkVersion) -> list[Change]:
    if old.framework.id != new.framework.id:
        raise ValueError(f"cannot diff {old.framework.id} against {new.framework.id}")
    changes: list[Change] = []
    for r in new.requirements:
        prev = old.get(r.ref_id)
        if prev is None:
            changes.append(Change("added", r.ref_id, None, r))
            continue
        fields = [a for a in ATTRS if _attr(prev, a) != _attr(r, a)]
        if prev.text != r.text:
            changes.append(Change("reworded", r.ref_id, prev, r, ["text", *fields]))
        elif fields:
            changes.append(Change("changed", r.ref_id, prev, r, fields))
    for r in old.requirements:
        if r.ref_id not in new:
            changes.append(Change("removed", r.ref_id, r, None))
    # A clause renumbered by the amendment shows as two rewordings (or a removal and an addition):
    # link an old text to the new clause that carries it on.
    olds = {c.ref_id: c for c in changes if c.kind in ("reworded", "removed")}
    news = {c.ref_id: c for c in changes if c.kind in ("reworded", "added")}
    for oid, oc in olds.items():
        best, score = None, MOVE_THRESHOLD
        for nid, nc in news.items():
            if nid == oid:
                continue
            s = _ratio(oc.old.text, nc.new.text)
            if s > score and s > _ratio(oc.old.text, oc.new.text if oc.new else ""):
                best, score = nid, s
        if best:
            oc.moved_to = best
            news[best].moved_from = oid
    order = {r.ref_id: i for i, r in enumerate(new.requirements)}
    order_old = {r.ref_id: i for i, r in enumerate(old.requirements)}
    changes.sort(key=lambda c: order.get(c.ref_id, order_old.get(c.ref_id, 0) + 0.5))
    return changes


def inline_diff(a: str, b: str) -> str:
    """Character diff for terminals: [-removed-]{+added+}."""
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(a[i1:i2])
        if op in ("delete", "replace"):
            out.append(f"[-{a[i1:i2]}-]")
        if op in ("insert", "replace"):
            out.append(f"{{+{b[j1:j2]}+}}")
    return "".join(out)
