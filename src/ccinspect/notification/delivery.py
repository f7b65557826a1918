"""Delivery: a signed JSON POST to the broker's gateway, or plain-text e-mail through the broker's relay.

Each call is one attempt and returns what happened (never raises for a network or HTTP failure): the caller
keeps every attempt and decides on retries with `backoff()`."""

from __future__ import annotations

import http.client
import json
import random
import smtplib
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from . import contract
from .message import Message

USER_AGENT = "ccinspect-notification/1"


@dataclass
class Attempt:
    ok: bool
    status: int | None  # HTTP status or SMTP reply code
    error: str  # "" when ok
    elapsed_ms: int
    retryable: bool = True


def backoff(attempt: int, base: float = 30.0, cap: float = 3600.0, jitter: float = 0.1) -> float:
    """Seconds before attempt `attempt + 1`: base·2^(attempt−1), capped, ±jitter so retries spread out."""
    d = min(cap, base * (2 ** max(0, attempt - 1)))
    return max(0.0, d * (1 + random.uniform(-jitter, jitter)))


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"gateway URL {url!r}: expected http:// or https://host/path")
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout,
                                           context=ssl.create_default_context()), path
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout), path


class Webhook:
    """POSTs signed JSON to one URL, keeping one connection per thread alive between requests."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0):
        _connection(url, timeout)  # checks the URL now
        self.url, self.secret, self.timeout = url, secret, timeout
        self._local = threading.local()

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c, self._local.path = _connection(self.url, self.timeout)
            self._local.conn = c
        return c, self._local.path

    def _drop(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
        self._local.conn = None

    def post(self, body: bytes, *, delivery_id: str = "", event: str = "notification") -> Attempt:
        start = time.monotonic()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   contract.SIGNATURE_HEADER: contract.sign(self.secret, body),
                   contract.DELIVERY_HEADER: delivery_id, contract.EVENT_HEADER: event}
        for retry_on_stale in (True, False):
            conn, path = self._conn()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    self._drop()
                ms = int((time.monotonic() - start) * 1000)
                ok = 200 <= resp.status < 300
                # 4xx other than 408/429: the gateway refuses this request; sending it again will not help
                retryable = not ok and (resp.status >= 500 or resp.status in (408, 429))
                return Attempt(ok, resp.status, "" if ok else f"HTTP {resp.status} {resp.reason}"[:300], ms,
                               retryable)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop()
                if retry_on_stale:  # a kept-alive connection the server had closed: one fresh try
                    continue
                return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:300],
                               int((time.monotonic() - start) * 1000))
            except TimeoutError:
                self._drop()
                return Attempt(False, None, f"timeout after {self.timeout:g} s",
                               int((time.monotonic() - start) * 1000))
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:300],
                               int((time.monotonic() - start) * 1000))
        raise AssertionError("unreachable")


def lookup_address(url: str, secret: str, account: str, *, timeout: float = 10.0) -> str:
    """Ask the broker's customer system for the account's e-mail address (signed POST {"account": …},
    answer {"email": …}). The address is used for this one message and never stored."""
    body = json.dumps({"account": account}, separators=(",", ":")).encode()
    conn, path = _connection(url, timeout)
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            contract.SIGNATURE_HEADER: contract.sign(secret, body), contract.EVENT_HEADER: "address_lookup"})
        resp = conn.getresponse()
        raw = resp.read(64 * 1024)
    finally:
        conn.close()
    if resp.status != 200:
        raise LookupError(f"address lookup answered HTTP {resp.status}")
    try:
        email = json.loads(raw).get("email")
    except (ValueError, AttributeError):
        raise LookupError("address lookup did not answer JSON with an \"email\"") from None
    if not isinstance(email, str) or "@" not in email or any(c in email for c in "\r\n,;<>"):
        raise LookupError("address lookup gave no usable e-mail address")
    return email


def send_email(host: str, port: int, sender: str, to: str, message: Message, *, starttls: bool = False,
               username: str = "", password: str = "", timeout: float = 10.0, msg_id: str = "") -> Attempt:
    """One plain-text message through the broker's relay."""
    start = time.monotonic()
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, message.subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(idstring=msg_id or None, domain=sender.rpartition("@")[2] or None)
    m.set_content(message.text, subtype="plain", charset="utf-8")
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as s:
            if starttls:
                s.starttls(context=ssl.create_default_context())
            if username:
                s.login(username, password)
            refused = s.send_message(m)
            code = 250
        if refused:
            return Attempt(False, 550, f"recipient refused: {next(iter(refused.values()))}"[:300],
                           int((time.monotonic() - start) * 1000), False)
        return Attempt(True, code, "", int((time.monotonic() - start) * 1000))
    except smtplib.SMTPResponseException as exc:
        return Attempt(False, exc.smtp_code, f"SMTP {exc.smtp_code} {exc.smtp_error!r}"[:300],
                       int((time.monotonic() - start) * 1000), exc.smtp_code >= 400 and exc.smtp_code < 500)
    except smtplib.SMTPRecipientsRefused as exc:
        return Attempt(False, 550, f"recipient refused: {exc}"[:300], int((time.monotonic() - start) * 1000), False)
    except (OSError, smtplib.SMTPException) as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:300], int((time.monotonic() - start) * 1000))
