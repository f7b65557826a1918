"""The amendment of CC-20000 side by side: before/after text of each changed clause, from the catalog."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ccinspect.catalog import Catalog, load_catalog
from ccinspect.catalog.diff import diff_versions

from .rules import FRAMEWORK


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _continues(ch, olds, before) -> str | None:
    """The changed old clause closest in text to this new one, when closer than the same-numbered one.

    The amendment swapped (七) and (八); the diff links a move only above its similarity threshold, and the
    DR clause grew too much for that. Among the changed clauses the closest text still names the pairing.
    """
    if ch.moved_from:
        return ch.moved_from
    if ch.new is None:
        return None
    same = _ratio(ch.old.text, ch.new.text) if ch.old else 0.0
    best = max(olds, key=lambda o: _ratio(o.text, ch.new.text), default=None)
    if best is not None and best.ref_id != ch.ref_id and _ratio(best.text, ch.new.text) > same:
        return best.ref_id
    return None


@dataclass
class ClauseChange:
    ref_id: str
    label: str
    change: str  # reworded | added | removed | changed
    before: str | None
    before_en: str | None
    after: str | None
    after_en: str | None
    moved_from: str | None  # the catalog diff's link: the old clause whose text this one carries on
    moved_to: str | None
    continues: str | None  # the old clause this one continues (a renumbered duty), by closest text
    continues_text: str | None
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
    changes = diff_versions(before, after)
    olds = [c.old for c in changes if c.old is not None]
    out = []
    for ch in changes:
        req = ch.new or ch.old
        cont = _continues(ch, olds, before)
        out.append(ClauseChange(
            ref_id=ch.ref_id, label=req.label, change=ch.kind,
            before=ch.old.text if ch.old else None, before_en=ch.old.text_en if ch.old else None,
            after=ch.new.text if ch.new else None, after_en=ch.new.text_en if ch.new else None,
            moved_from=ch.moved_from, moved_to=ch.moved_to, continues=cont,
            continues_text=before.get(cont).text if cont else None, explanation=notes,
        ))
    return out
