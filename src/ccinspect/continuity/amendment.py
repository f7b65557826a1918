"""The amendment of CC-20000 side by side: before/after text of each changed clause, from the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from ccinspect.catalog import Catalog, load_catalog
from ccinspect.catalog.diff import diff_versions

from .rules import FRAMEWORK


@dataclass
class ClauseChange:
    ref_id: str
    label: str
    change: str  # reworded | added | removed | changed
    before: str | None
    before_en: str | None
    after: str | None
    after_en: str | None
    moved_from: str | None  # the pre-amendment clause whose text this one carries on
    moved_to: str | None
    explanation: list[str]  # the version notes (修正說明), verbatim

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def amendment(catalog: Catalog | None = None, old: str | None = None, new: str | None = None) -> list[ClauseChange]:
    """Changed clauses between two versions (default: the oldest and the one in force), in the new order."""
    cat = catalog or load_catalog()
    versions = cat.versions(FRAMEWORK)
    before = cat.version(FRAMEWORK, old) if old else versions[0]
    after = cat.version(FRAMEWORK, new) if new else cat.version(FRAMEWORK)
    notes = [n for n in before.spec.notes if n.startswith("修正說明")]
    out = []
    for ch in diff_versions(before, after):
        req = ch.new or ch.old
        out.append(ClauseChange(
            ref_id=ch.ref_id, label=req.label, change=ch.kind,
            before=ch.old.text if ch.old else None, before_en=ch.old.text_en if ch.old else None,
            after=ch.new.text if ch.new else None, after_en=ch.new.text_en if ch.new else None,
            moved_from=ch.moved_from, moved_to=ch.moved_to, explanation=notes,
        ))
    return out
