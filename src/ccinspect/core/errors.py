"""One error type for bad input: where (file, line or record, field), what was expected, and a message id.

Messages are defined once, with an English and a Traditional Chinese template, so any layer (CLI, web, API)
can show the error in the user's language without parsing the English text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    id: str
    en: str
    zh: str

    def format(self, lang: str = "en", **params: Any) -> str:
        template = self.zh if lang.lower().startswith("zh") else self.en
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template


MESSAGES: dict[str, Message] = {}


_LEGACY_PLACE = re.compile(r"^(?P<file>[^:\n]+?): (?:line (?P<line>\d+): )?(?:field (?P<field>[^:\n]+): )?")


def place_of(text: str) -> dict:
    """file, line and field from an older message of the form "path: line N: field F: message"."""
    m = _LEGACY_PLACE.match(text)
    if not m:
        return {}
    return {"file": m["file"], "line": int(m["line"]) if m["line"] else None, "field": m["field"]}


def define(message_id: str, en: str, zh: str) -> Message:
    """Register a message; defining the same id twice with other text is a programming error."""
    msg = Message(message_id, en, zh)
    old = MESSAGES.setdefault(message_id, msg)
    if old != msg:
        raise ValueError(f"message id {message_id!r} defined twice with different text")
    return msg


GENERIC = define("input.invalid", "{detail}", "{detail}")


class InputError(ValueError):
    """Bad input, located. `line` 0 (or None) means the file as a whole; `record` names a row or record id
    where lines do not apply (a spreadsheet row, a JSON record, a database row)."""

    def __init__(
        self,
        message: Message | str,
        *,
        file: str | None = None,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
        expected: str | None = None,
        located: bool = False,
        **params: Any,
    ):
        if isinstance(message, str):
            message, params = GENERIC, {**params, "detail": message}
        self.msg = message
        self.message_id = message.id
        self.file, self.line, self.record, self.field, self.expected = file, line, record, field, expected
        self.params = params
        self.located = located  # the message text already names the place (older messages): not repeated
        super().__init__(self.text("en"))

    @property
    def message(self) -> str:
        return self.msg.format("en", **self.params)

    def where(self, lang: str = "en") -> str:
        zh = lang.lower().startswith("zh")
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.record:
            parts.append(f"記錄 {self.record}" if zh else f"record {self.record}")
        if self.field:
            parts.append(f"欄位「{self.field}」" if zh else f"field '{self.field}'")
        return ("，" if zh else ": ").join(parts)

    def text(self, lang: str = "en") -> str:
        zh = lang.lower().startswith("zh")
        body = self.msg.format(lang, **self.params)
        if self.expected and self.expected not in body:
            body += f"（應為：{self.expected}）" if zh else f" (expected {self.expected})"
        where = "" if self.located else self.where(lang)
        return f"{where}{'：' if zh else ': '}{body}" if where else body

    def to_dict(self) -> dict:
        d = {
            "file": self.file, "line": self.line, "record": self.record, "field": self.field,
            "expected": self.expected, "message_id": self.message_id,
            "message": self.message, "message_zh": self.msg.format("zh", **self.params),
        }
        return {k: v for k, v in d.items() if v is not None}
