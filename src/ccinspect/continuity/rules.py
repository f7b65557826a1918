"""The gap rules as data (rules.yaml), checked against the catalog's CC-20000 versions on load."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ccinspect.catalog import Catalog, load_catalog
from ccinspect.catalog.diff import diff_versions
from ccinspect.core.errors import InputError, place_of

FRAMEWORK = "internal-control"
RULES_PATH = Path(str(resources.files("ccinspect.continuity") / "rules.yaml"))


class RulesError(InputError):
    """rules.yaml is malformed or names a clause the catalog lacks; the message says which rule."""

    def __init__(self, message, **where):
        # older messages say where in their text ("path: line 3: ..."); the place is still carried as fields
        if isinstance(message, str) and not where:
            where = {"located": True, **place_of(message)}
        super().__init__(message, **where)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    title_en: str
    description: str
    description_en: str
    basis: str  # the words of the standard the rule rests on, verbatim (… marks an omission)
    clauses: dict[str, list[str]]  # framework version id -> ref_ids
    mechanism: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    assumed: bool = False
    applies_if: list[str] = Field(default_factory=list)


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[Rule]


@dataclass(frozen=True)
class Clause:
    """One clause a gap breaks, in one version of the internal-control framework."""

    framework: str
    version: str
    ref_id: str
    label: str
    text: str
    text_en: str
    changed_by_amendment: bool

    def to_dict(self) -> dict:
        return {"framework": self.framework, "version": self.version, "ref_id": self.ref_id,
                "label": self.label, "text": self.text, "text_en": self.text_en,
                "changed_by_amendment": self.changed_by_amendment}


class RuleSet:
    def __init__(self, rules: list[Rule], catalog: Catalog, where: str = "rules.yaml"):
        self.catalog = catalog
        self.rules = {r.id: r for r in rules}
        if len(self.rules) != len(rules):
            raise RulesError(f"{where}: duplicate rule ids")
        versions = {v.id: v for v in catalog.versions(FRAMEWORK)}
        current = catalog.current_version_id(FRAMEWORK)
        # The amendment's changed clauses: (version, ref_id) pairs whose text differs between versions.
        self.changed: set[tuple[str, str]] = set()
        ids = list(versions)
        for a, b in zip(ids, ids[1:], strict=False):
            for ch in diff_versions(versions[a], versions[b]):
                if ch.old is not None:
                    self.changed.add((a, ch.ref_id))
                if ch.new is not None:
                    self.changed.add((b, ch.ref_id))
        mech = catalog.version("mechanism")
        for r in rules:
            ctx = f"{where}: rule {r.id}"
            if current not in r.clauses or not r.clauses[current]:
                raise RulesError(f"{ctx}: names no clause of the {current} version")
            for ver, refs in r.clauses.items():
                if ver not in versions:
                    raise RulesError(f"{ctx}: unknown version {ver!r} of {FRAMEWORK}; known: {ids}")
                for ref in refs:
                    if ref not in versions[ver]:
                        raise RulesError(f"{ctx}: {ref} is not in {FRAMEWORK}/{ver}")
            # A clause the amendment changed is named in every version (the duty moved or grew).
            if any((current, ref) in self.changed for ref in r.clauses[current]):
                missing = [v for v in ids if v not in r.clauses]
                if missing:
                    raise RulesError(f"{ctx}: serves a clause the amendment changed but names no clause of "
                                     f"{', '.join(missing)}")
            for ref in r.mechanism:
                if ref not in mech:
                    raise RulesError(f"{ctx}: mechanism ref_id {ref} not in the catalog")

    def __getitem__(self, rid: str) -> Rule:
        return self.rules[rid]

    def __iter__(self):
        return iter(self.rules.values())

    def clauses(self, rid: str) -> list[Clause]:
        """The clauses a rule serves, current version first, with their text from the catalog."""
        out = []
        current = self.catalog.current_version_id(FRAMEWORK)
        order = sorted(self.rules[rid].clauses, key=lambda v: v != current)
        for ver in order:
            fv = self.catalog.version(FRAMEWORK, ver)
            for ref in self.rules[rid].clauses[ver]:
                req = fv.get(ref)
                out.append(Clause(FRAMEWORK, ver, ref, req.label, req.text, req.text_en,
                                  (ver, ref) in self.changed))
        return out


def load_rules(path: Path | None = None, catalog: Catalog | None = None) -> RuleSet:
    p = path or RULES_PATH
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{p}: cannot read rules: {exc}") from None
    try:
        rf = RulesFile.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"{p}: {exc}") from None
    return RuleSet(rf.rules, catalog or load_catalog(), str(p))


@cache
def default_rules() -> RuleSet:
    return load_rules()
