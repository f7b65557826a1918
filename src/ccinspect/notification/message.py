"""Message templates the broker edits: placeholders, the no-links rule and rendering to plain text.

Customers are taught never to follow links in security messages (CC-17010.e.g), so a template with a link
(a URL, www., or a domain name) is refused unless the broker explicitly allows links for it. Messages are
plain text: whatever a page shows of them is escaped there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import NO_LINKS_REF_IDS

PLACEHOLDERS = ("account", "account_masked", "time", "place", "reason", "expires")
_FIELD = re.compile(r"\{([^{}]*)\}")
LINK = re.compile(
    r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b(?:[a-z0-9-]+\.)+(?:com|net|org|tw|io|info|biz|me|ly|cc|co|app|"
    r"link|xyz|top|gov|edu)\b)")

LANGUAGES = ("zh-hant", "en")

DEFAULTS = {
    ("zh-hant", "notification"): (
        "登入通知",
        "您的帳戶 {account_masked} 於 {time} 自 {place} 登入（{reason}）。"
        "請開啟本公司 APP 或致電客服確認是否為您本人登入。本訊息不含任何連結，請勿點選他人提供之連結。"),
    ("en", "notification"): (
        "Sign-in notice",
        "Your account {account_masked} was signed in to at {time} from {place} ({reason}). "
        "Please open our app or call customer service to confirm whether it was you. "
        "This message contains no links; do not follow links sent by others."),
    ("zh-hant", "follow_up"): (
        "登入確認提醒",
        "我們尚未收到您對 {time} 自 {place} 登入帳戶 {account_masked} 的確認。"
        "請開啟本公司 APP 或致電客服確認。本訊息不含任何連結。"),
    ("en", "follow_up"): (
        "Reminder: confirm a sign-in",
        "We have not yet heard from you about the sign-in to account {account_masked} at {time} from {place}. "
        "Please open our app or call customer service. This message contains no links."),
}

REASONS = {
    "account_takeover": ("疑似帳號遭盜用之登入", "a sign-in that may not be yours"),
    "new_source": ("自新的地點或網路登入", "a sign-in from a new place or network"),
}


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


def links_in(text: str) -> list[str]:
    return [m.group(0) for m in LINK.finditer(text or "")]


def check(subject: str, body: str, *, allow_links: bool = False) -> None:
    """Refuse unknown placeholders, empty bodies and (unless allowed) links; the message names what."""
    if not (body or "").strip():
        raise TemplateError("the message text is empty / 訊息內容不可空白")
    for part in (subject or "", body):
        for m in _FIELD.finditer(part):
            if m.group(1) not in PLACEHOLDERS:
                raise TemplateError(f"unknown placeholder {{{m.group(1)}}}; use one of "
                                    + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                                    + f" / 不明的欄位 {{{m.group(1)}}}")
    if not allow_links:
        found = links_in(subject or "") + links_in(body)
        if found:
            raise TemplateError(f"the template contains a link ({found[0]}); security messages carry no links "
                                f"({', '.join(NO_LINKS_REF_IDS)}) unless links are allowed for this template / 範本含有連結")


def mask(account: str) -> str:
    """Enough for the customer to recognise the account, not enough to use it."""
    a = str(account)
    if len(a) <= 4:
        return a[:1] + "*" * (len(a) - 1)
    return a[:2] + "*" * (len(a) - 4) + a[-2:]


def reason_text(kind: str, reason: str, language: str) -> str:
    pair = REASONS.get(kind)
    if pair is None:
        return reason
    return pair[1] if language.startswith("en") else pair[0]


def render(subject: str, body: str, values: dict) -> Message:
    """Fill the placeholders; values are inserted as text (never interpreted)."""
    def fill(s: str) -> str:
        return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), s or "")

    return Message(fill(subject), fill(body))
