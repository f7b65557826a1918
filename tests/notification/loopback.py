"""Real servers on loopback for the notification tests and the bench: an HTTP receiver (the broker's gateway)
that answers 200, 500 or too late, and an SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ccinspect.notification import contract


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(ThreadingHTTPServer):
    """mode: "ok" (200), "500", "timeout" (answers after `delay` s), "flaky" (500 for the first
    `fail_first` requests of each delivery id, then 200) or "share" (the same for `fail_share` of the
    delivery ids, chosen by their hash). Verifies every signature with `secret`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, secret: str, mode: str = "ok", *, delay: float = 3.0, fail_first: int = 1, addresses=None,
                 fail_share: float = 0.0, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.fail_share = fail_share
        self.secret, self.mode, self.delay, self.fail_first = secret, mode, delay, fail_first
        self.addresses = addresses or {}  # account -> e-mail, for the address lookup
        self.received: list[dict] = []
        self.bad_signatures = 0
        self.per_delivery: dict[str, int] = {}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def _share(delivery: str) -> float:
    return int(hashlib.sha256(delivery.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def serve(secret: str, mode: str, port: int, fail_share: float) -> None:
    """Run a receiver in this process until killed (the bench runs it in a child process: no shared GIL)."""
    srv = Receiver(secret, mode, fail_share=fail_share, port=port)
    srv.serve_forever(poll_interval=0.05)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real gateway
    disable_nagle_algorithm = True  # as servers do: headers and body are two writes

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        srv: Receiver = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            contract.verify(srv.secret, self.headers.get(contract.SIGNATURE_HEADER), body)
        except contract.SignatureError:
            with srv.lock:
                srv.bad_signatures += 1
            return self._answer(401, b'{"detail":"bad signature"}')
        data = json.loads(body)
        if self.headers.get(contract.EVENT_HEADER) == "address_lookup":
            email = srv.addresses.get(data["account"])
            return self._answer(200 if email else 404, json.dumps({"email": email}).encode())
        delivery = self.headers.get(contract.DELIVERY_HEADER, "")
        with srv.lock:
            seen = srv.per_delivery[delivery] = srv.per_delivery.get(delivery, 0) + 1
        if srv.mode == "timeout":
            time.sleep(srv.delay)
        if srv.mode == "500" or (srv.mode == "flaky" and seen <= srv.fail_first) or (
                srv.mode == "share" and seen <= srv.fail_first and _share(delivery) < srv.fail_share):
            return self._answer(500, b'{"detail":"gateway down"}')
        with srv.lock:
            srv.received.append({"headers": dict(self.headers), "body": data})
        self._answer(200, b'{"status":"queued"}')

    def _answer(self, code: int, body: bytes):
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Mailbox:
    """aiosmtpd on loopback: the broker's mail relay. `messages` holds (envelope from, to, email.message)."""

    def __init__(self, code: str | None = None):
        self.messages: list = []
        self.code = code  # e.g. "550 no such user" to refuse every recipient

    def __enter__(self):
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller

        box = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if box.code:
                    return box.code
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                box.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                     message_from_bytes(envelope.content, policy=policy.default)))
                return "250 Message accepted"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
