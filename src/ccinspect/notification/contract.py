"""The gateway contract: HMAC-SHA256 signatures with a timestamp, the request payload, confirmation tokens.

Signature header (both directions): ``X-CCInspect-Signature: t=<unix seconds>,v1=<hex>`` where
``hex = HMAC-SHA256(secret, f"{t}.".encode() + body)``. A receiver refuses a timestamp further than
``tolerance`` seconds from its clock and a signature it has seen before (replay)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SIGNATURE_HEADER = "X-CCInspect-Signature"
DELIVERY_HEADER = "X-CCInspect-Delivery"  # the notification's id: the same on every retry (idempotency)
EVENT_HEADER = "X-CCInspect-Event"
TOLERANCE_SECONDS = 300
ANSWERS = ("me", "not_me")  # "this was me" / "this was not me"
VERSION = 1


class SignatureError(ValueError):
    """A request whose signature is missing, malformed, stale or wrong. `reason` is one of
    missing, malformed, stale, mismatch."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _mac(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for `body`."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_mac(secret, t, body)}"


def parse_signature(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureError("missing", f"no {SIGNATURE_HEADER} header")
    t, sigs = None, []
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        if k == "t" and v.isdigit():
            t = int(v)
        elif k == "v1" and len(v) == 64:
            sigs.append(v.lower())
    if t is None or not sigs:
        raise SignatureError("malformed", f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<64 hex digits>")
    return t, sigs


def verify(secret: str | bytes, header: str | None, body: bytes, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check a signed request; returns its timestamp. Several v1 values are accepted (key rotation)."""
    t, sigs = parse_signature(header)
    now = time.time() if now is None else now
    if abs(now - t) > tolerance:
        raise SignatureError("stale", f"signature timestamp {t} is more than {tolerance} s from now")
    expected = _mac(secret, t, body)
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        raise SignatureError("mismatch", "signature does not match the body")
    return t


def signature_digest(header: str) -> str:
    """What a receiver remembers to refuse a replay of the same signed request."""
    return hashlib.sha256(header.strip().encode()).hexdigest()


def new_token() -> str:
    """A confirmation token: 128 random bits, URL-safe (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def token_digest(token: str) -> str:
    """Only this is stored: a database copy cannot answer for a customer."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


@dataclass(frozen=True)
class NotificationRequest:
    """Everything the gateway gets: no phone number, no e-mail address, no name."""

    id: str  # the notification's public id (idempotency key)
    broker: str
    account: str
    reason: str
    kind: str
    login_at: str  # ISO 8601 with offset
    place: str  # rough place: a country or network, never the full address
    token: str
    expires_at: str
    template: dict  # {"id", "language", "subject", "text"}
    follow_up: bool = False

    def payload(self) -> dict:
        return {"version": VERSION, "type": "follow_up" if self.follow_up else "notification", "id": self.id,
                "broker": self.broker, "account": self.account, "reason": self.reason, "kind": self.kind,
                "login_at": self.login_at, "place": self.place,
                "confirmation": {"token": self.token, "expires_at": self.expires_at, "answers": list(ANSWERS)},
                "template": self.template}

    def body(self) -> bytes:
        return json.dumps(self.payload(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def answer_body(token: str, answer: str, answered_at: str | None = None) -> bytes:
    """The body a gateway posts back (docs/notification.md); used by tests and the bench as a gateway would."""
    d = {"token": token, "answer": answer}
    if answered_at:
        d["answered_at"] = answered_at
    return json.dumps(d, separators=(",", ":")).encode()
