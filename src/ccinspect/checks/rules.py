"""The analyzer rule table (rules.yaml): ref_ids, evidence globs and thresholds, validated on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccinspect.core.ids import ref_key

RULES_FILE = Path(__file__).with_name("rules.yaml")


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref_ids: list[str] = Field(min_length=1)
    needs: list[str] = Field(default_factory=list)  # every role must have a file
    needs_any: list[str] = Field(default_factory=list)  # at least one role must have a file
    rule: str
    basis: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class AnalyzerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    live: bool = False
    evidence: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, RuleSpec]

    @model_validator(mode="after")
    def _roles_known(self) -> AnalyzerSpec:
        for rid, r in self.rules.items():
            for role in r.needs + r.needs_any:
                if role not in self.evidence:
                    raise ValueError(f"rule {rid} needs role {role!r}, which has no evidence glob")
        return self


class RuleTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    analyzers: dict[str, AnalyzerSpec]

    def ref_ids(self, include_live: bool = True) -> list[str]:
        out: set[str] = set()
        for a in self.analyzers.values():
            if a.live and not include_live:
                continue
            for r in a.rules.values():
                out.update(r.ref_ids)
        return sorted(out, key=ref_key)

    def rules_for(self, ref_id: str, include_live: bool = False) -> list[tuple[str, str, RuleSpec]]:
        return [
            (aid, rid, r) for aid, a in self.analyzers.items() if include_live or not a.live
            for rid, r in a.rules.items() if ref_id in r.ref_ids
        ]


def load_rules(path: Path | None = None) -> RuleTable:
    if path is None:
        return _default()
    return RuleTable.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _default() -> RuleTable:
    return RuleTable.model_validate(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))
