"""The attestation topics (topics.yaml), validated on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

TOPICS_FILE = Path(__file__).with_name("topics.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Question(_Strict):
    id: str
    text: str
    text_en: str
    kind: Literal["text", "yes_no", "date"] = "text"


class Document(_Strict):
    id: str
    text: str
    text_en: str


class Expiry(_Strict):
    field: str
    text: str
    text_en: str


class Topic(_Strict):
    id: str
    title: str
    title_en: str
    framework: Literal["mechanism", "internal-control"] = "mechanism"
    scope: list[str] = Field(default_factory=list)
    ref_ids: list[str] = Field(default_factory=list)
    focus_points: list[str] = Field(default_factory=list)
    interval_months: int | None = None
    expiry: Expiry | None = None
    questions: list[Question] = Field(min_length=1)
    documents: list[Document] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Topic:
        for kind, items in (("question", self.questions), ("document", self.documents)):
            ids = [i.id for i in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"topic {self.id}: duplicate {kind} id")
        return self

    def covers(self, framework: str, ref_id: str) -> bool:
        if framework != self.framework:
            return False
        return ref_id in self.ref_ids or any(ref_id == s or ref_id.startswith(s + ".") for s in self.scope)


    def requirement_ids(self, cat, served: set[str]) -> tuple[str, ...]:
        """The requirements this topic evidences in the version in force: named ones, and the applicable
        nodes under its scope that no analyzer serves (`served`)."""
        fv = cat.version(self.framework)
        out = [r.ref_id for r in fv.requirements
               if r.ref_id in self.ref_ids
               or (r.ref_id not in served and r.assessable and self.covers(self.framework, r.ref_id))]
        return tuple(out)


class TopicsFile(_Strict):
    topics: list[Topic]

    @model_validator(mode="after")
    def _unique(self) -> TopicsFile:
        ids = [t.id for t in self.topics]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate topic ids: {sorted(dup)}")
        return self

    def get(self, topic_id: str) -> Topic:
        for t in self.topics:
            if t.id == topic_id:
                return t
        raise KeyError(topic_id)


def load_topics(path: Path | None = None) -> TopicsFile:
    if path is None:
        return _default()
    return TopicsFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _default() -> TopicsFile:
    return TopicsFile.model_validate(yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8")))
