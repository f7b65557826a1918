"""The gateway contract and delivery, against real servers on loopback."""

from __future__ import annotations

import json
import time

import pytest

from ccinspect.notification import contract, delivery
from ccinspect.notification import message as msg

from .loopback import Mailbox, Receiver

SECRET = "whsec_test-secret"


def test_signature_round_trip_and_refusals():
    body = b'{"token":"abc","answer":"not_me"}'
    header = contract.sign(SECRET, body, timestamp=1_700_000_000)
    assert contract.verify(SECRET, header, body, now=1_700_000_010) == 1_700_000_000
    with pytest.raises(contract.SignatureError) as e:
        contract.verify(SECRET, header, body + b" ", now=1_700_000_010)
    assert e.value.reason == "mismatch"
    with pytest.raises(contract.SignatureError) as e:
        contract.verify("another-secret", header, body, now=1_700_000_010)
    assert e.value.reason == "mismatch"
    with pytest.raises(contract.SignatureError) as e:  # replayed outside the window
        contract.verify(SECRET, header, body, now=1_700_000_000 + contract.TOLERANCE_SECONDS + 1)
    assert e.value.reason == "stale"
    for bad, reason in ((None, "missing"), ("", "missing"), ("t=abc,v1=00", "malformed"), ("v1=" + "0" * 64, "malformed")):
        with pytest.raises(contract.SignatureError) as e:
            contract.verify(SECRET, bad, body)
        assert e.value.reason == reason
    # key rotation: either of two signatures is accepted
    t = int(time.time())
    two = f"t={t},v1={'0' * 64},v1={contract.sign(SECRET, body, t).split('v1=')[1]}"
    assert contract.verify(SECRET, two, body) == t


def test_the_payload_carries_no_contact_details():
    req = contract.NotificationRequest(id="u1", broker="7", account="A123456789", reason="r", kind="new_source",
                                       login_at="2026-05-02T09:41:00+08:00", place="JP", token="tok",
                                       expires_at="2026-05-05T09:41:00+08:00",
                                       template={"id": None, "language": "en", "subject": "s", "text": "t"})
    p = json.loads(req.body())
    assert set(p) == {"version", "type", "id", "broker", "account", "reason", "kind", "login_at", "place",
                      "confirmation", "template"}
    assert p["confirmation"] == {"token": "tok", "expires_at": "2026-05-05T09:41:00+08:00", "answers": ["me", "not_me"]}


def test_tokens_are_random_and_stored_as_digests():
    a, b = contract.new_token(), contract.new_token()
    assert a != b and len(a) == 22
    assert contract.token_digest(a) != a and len(contract.token_digest(a)) == 64


@pytest.mark.parametrize("text", ["請至 https://example.com/x 確認", "visit www.broker-login.tw now",
                                  "go to broker.com.tw", "bit.ly/abc", "javascript://x"])
def test_templates_refuse_links_unless_allowed(text):
    with pytest.raises(msg.TemplateError, match="link"):
        msg.check("s", text)
    msg.check("s", text, allow_links=True)


def test_templates_refuse_unknown_placeholders_and_render_values_as_text():
    with pytest.raises(msg.TemplateError, match=r"\{phone\}"):
        msg.check("s", "call {phone}")
    with pytest.raises(msg.TemplateError, match=r"\{account.__class__\}"):
        msg.check("s", "{account.__class__}")
    for subject, body in msg.DEFAULTS.values():
        msg.check(subject, body)  # the shipped defaults carry no link
    m = msg.render("{account_masked}", "at {time}: {place}", {"account_masked": "A1******89", "time": "{place}",
                                                           "place": "<b>x</b>"})
    assert m.subject == "A1******89" and m.text == "at {place}: <b>x</b>"  # inserted once, as text
    assert msg.mask("A123456789") == "A1******89" and msg.mask("ab") == "a*"


def test_webhook_ok_signed_and_kept_alive():
    with Receiver(SECRET) as r:
        hook = delivery.Webhook(r.url, SECRET, timeout=2)
        for i in range(3):
            a = hook.post(json.dumps({"n": i}).encode(), delivery_id=f"d{i}")
            assert a.ok and a.status == 200 and a.error == ""
        assert [x["body"]["n"] for x in r.received] == [0, 1, 2]
        assert r.bad_signatures == 0
        assert r.received[0]["headers"][contract.DELIVERY_HEADER] == "d0"
        # a wrong secret is refused by the receiver: 401, not retried
        a = delivery.Webhook(r.url, "wrong", timeout=2).post(b"{}")
        assert not a.ok and a.status == 401 and not a.retryable and r.bad_signatures == 1


def test_webhook_500_is_retryable():
    with Receiver(SECRET, "500") as r:
        a = delivery.Webhook(r.url, SECRET, timeout=2).post(b"{}")
    assert not a.ok and a.status == 500 and a.retryable and "500" in a.error


def test_webhook_timeout_is_retryable():
    with Receiver(SECRET, "timeout", delay=1.5) as r:
        t0 = time.monotonic()
        a = delivery.Webhook(r.url, SECRET, timeout=0.3).post(b"{}")
        assert time.monotonic() - t0 < 1.2
    assert not a.ok and a.status is None and a.retryable and "timeout" in a.error


def test_webhook_refused_connection():
    from .loopback import free_port

    a = delivery.Webhook(f"http://127.0.0.1:{free_port()}/x", SECRET, timeout=1).post(b"{}")
    assert not a.ok and a.status is None and a.retryable and "Connection" in a.error


def test_backoff_doubles_with_cap():
    assert [round(delivery.backoff(n, base=10, jitter=0)) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert delivery.backoff(30, base=10, cap=600, jitter=0) == 600
    assert 9 <= delivery.backoff(1, base=10) <= 11


def test_email_through_a_real_relay_with_address_lookup():
    with Receiver(SECRET, addresses={"A123456789": "customer@example.net"}) as r, Mailbox() as box:
        to = delivery.lookup_address(r.url, SECRET, "A123456789")
        a = delivery.send_email("127.0.0.1", box.port, "security@broker.example", to,
                                msg.Message("登入通知", "您的帳戶於 09:41 登入"), msg_id="n1")
        with pytest.raises(LookupError):
            delivery.lookup_address(r.url, SECRET, "unknown")
    assert a.ok and a.status == 250
    (frm, rcpt, m), = box.messages
    assert frm == "security@broker.example" and rcpt == ["customer@example.net"]
    assert m["Subject"] == "登入通知" and m.get_content_type() == "text/plain"
    assert "09:41" in m.get_content()


def test_email_refused_recipient_is_not_retried():
    with Mailbox(code="550 no such user") as box:
        a = delivery.send_email("127.0.0.1", box.port, "s@broker.example", "x@example.net", msg.Message("s", "t"))
    assert not a.ok and a.status == 550 and not a.retryable and box.messages == []


def test_email_relay_down():
    from .loopback import free_port

    a = delivery.send_email("127.0.0.1", free_port(), "s@b.example", "x@example.net", msg.Message("s", "t"), timeout=1)
    assert not a.ok and a.retryable
