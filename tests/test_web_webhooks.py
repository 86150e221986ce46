"""Signed webhooks from a real `fidelio-hub run` process (broker, hub, kiosk over MQTT) to a small HTTP
receiver on 127.0.0.1 that verifies the HMAC signature: only the chosen event types, the body of
hub/events, retried with backoff after failures, and a receiver that hangs never holds the kiosks' replies.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.cli import main as hub_main
from hub.webhooks import SIGNATURE_HEADER, load_endpoints, verify
from tests.support import HubHarness, NotifyListener, wait_until

NO = {"email": False, "sms": False}


class Receiver:
    """Records every POST; can answer 503 to the next `fail` ones, or hold requests until released."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes, float]] = []
        self.fail = 0
        self.hold = threading.Event()
        self.hold.set()
        self.held = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not receiver.hold.is_set():
                    receiver.held.set()
                    receiver.hold.wait(30)
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                status = 503 if receiver.fail > 0 else 204
                receiver.fail -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fidelio"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret: str) -> list[dict]:
        """The bodies whose signature verifies (and whose delivery was answered 2xx: the last per id)."""
        out = {}
        for headers, body, at in self.got:
            assert verify(secret, headers[SIGNATURE_HEADER.lower()], body, at), headers
            out[headers["fidelio-event-id"]] = json.loads(body)
        return list(out.values())

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()


@pytest.fixture(scope="module")
def hub() -> Iterator[tuple[HubHarness, Receiver, str]]:
    harness = HubHarness()
    receiver = Receiver()
    notify = None
    try:
        harness.start_broker()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert hub_main(["--data", str(harness.data), "webhook", "add", receiver.url,
                             "--events", "purchase,redeem"]) == 0  # fmt: skip
        secret = out.getvalue().rsplit(": ", 1)[1].strip()
        assert secret.startswith("whsec_") and load_endpoints(harness.data)[0].secret == secret
        notify = NotifyListener(harness.root / "notify.sock")
        harness.start_hub_process(notify)
        assert notify.wait_for("STATUS=connected"), "the hub never came up"
        harness.notify = notify  # type: ignore[attr-defined]
        yield harness, receiver, secret
    finally:
        receiver.close()
        harness.close()
        if notify is not None:
            notify.close()


def test_purchases_and_redemptions_are_posted_signed_and_nothing_else(hub):
    harness, receiver, secret = hub
    kiosk = harness.kiosk("comptoir")
    card = "pcsc:04EB0001"
    assert kiosk.request("tap", card)["error"]["code"] == "unknown_card"
    assert kiosk.request("enrol", card, {"first_name": "Wébhook", "consents": NO})["ok"]
    tap = kiosk.request("tap", card)
    bought = kiosk.request("purchase", card, {"amount_cents": 9000})
    redeemed = kiosk.request("redeem", card, {"reward": "bon-5"})
    assert tap["ok"] and bought["ok"] and redeemed["ok"], (bought, redeemed)
    assert wait_until(lambda: len(receiver.events(secret)) >= 2, timeout=20)
    events = receiver.events(secret)
    assert [(e["id"], e["type"]) for e in events] == [(bought["id"], "purchase"), (redeemed["id"], "redeem")]
    assert events[0]["effects"] and events[0]["ok"] is True
    raw = b"".join(body for _, body, _ in receiver.got)
    assert card.encode() not in raw and "Wébhook".encode() not in raw  # no personal data
    headers, body, at = receiver.got[0]
    signature = headers[SIGNATURE_HEADER.lower()]
    assert verify(secret, signature, body, at)
    assert not verify(secret, signature, body, at + 600)  # replayed ten minutes later: refused
    assert not verify(secret, signature, body.replace(b"purchase", b"purchasf"), at)  # another body
    assert not verify("whsec_other", signature, body, at)
    assert headers["content-type"] == "application/json" and headers["fidelio-event-type"] == "purchase"


def test_a_failed_delivery_is_retried_with_the_same_event(hub):
    harness, receiver, secret = hub
    kiosk = harness.kiosk("retry")
    card = "pcsc:04EB0002"
    assert kiosk.request("enrol", card, {"consents": NO})["ok"]
    before = len(receiver.got)
    receiver.fail = 2
    bought = kiosk.request("purchase", card, {"amount_cents": 1200})
    assert bought["ok"]
    assert wait_until(lambda: len(receiver.got) >= before + 3, timeout=20)
    tries = receiver.got[before : before + 3]
    assert [h["fidelio-event-id"] for h, _, _ in tries] == [bought["id"]] * 3
    assert [h["fidelio-delivery-attempt"] for h, _, _ in tries] == ["1", "2", "3"]
    waits = [tries[1][2] - tries[0][2], tries[2][2] - tries[1][2]]
    assert waits[0] >= 0.9 and waits[1] >= 1.9, waits  # backoff: at least 1 s, then at least 2 s
    assert bought["id"] in {e["id"] for e in receiver.events(secret)}


def test_a_hanging_receiver_never_holds_the_kiosks_replies(hub):
    harness, receiver, secret = hub
    kiosk = harness.kiosk("pendant")
    card = "pcsc:04EB0003"
    assert kiosk.request("enrol", card, {"consents": NO})["ok"]
    receiver.hold.clear()
    first = kiosk.request("purchase", card, {"amount_cents": 500})
    assert receiver.held.wait(20)  # the hub is now stuck on this delivery
    later = [kiosk.request("purchase", card, {"amount_cents": 100 * n}) for n in (1, 2, 3)]
    assert all(r["ok"] for r in later)  # answered while the webhook hangs
    assert not receiver.hold.is_set()
    receiver.hold.set()
    ids = [first["id"]] + [r["id"] for r in later]
    assert wait_until(lambda: set(ids) <= {e["id"] for e in receiver.events(secret)}, timeout=20)


def test_deliveries_survive_a_restart_of_the_hub(hub):
    harness, receiver, secret = hub
    kiosk = harness.kiosk("redemarrage")
    card = "pcsc:04EB0004"
    assert kiosk.request("enrol", card, {"consents": NO})["ok"]
    delivered_before = {h["fidelio-event-id"] for h, _, _ in receiver.got}
    receiver.fail = 1_000  # the receiver is down
    before = len(receiver.got)
    bought = kiosk.request("purchase", card, {"amount_cents": 700})
    assert wait_until(lambda: len(receiver.got) > before, timeout=20)
    harness.kill_hub_process(signal.SIGTERM)  # stopped while retrying
    receiver.fail = 0
    while_down = len(receiver.got)
    harness.notify.clear()
    harness.start_hub_process(harness.notify)
    assert harness.notify.wait_for("STATUS=connected")
    after = kiosk.request("purchase", card, {"amount_cents": 800})
    assert after["ok"]
    # in order per endpoint: once the next purchase is there, whatever came before it is there too
    assert wait_until(lambda: after["id"] in {h["fidelio-event-id"] for h, _, _ in receiver.got}, timeout=20)
    again = receiver.got[while_down:]
    assert [h["fidelio-event-id"] for h, _, _ in again] == [bought["id"], after["id"]]  # none twice
    assert again[0][0]["fidelio-delivery-attempt"] == "1"
    assert not delivered_before & {h["fidelio-event-id"] for h, _, _ in again}
    assert verify(secret, again[0][0][SIGNATURE_HEADER.lower()], again[0][1], again[0][2])


def test_an_endpoint_added_while_the_hub_runs_gets_the_events_from_then_on(hub):
    harness, _receiver, _secret = hub
    second = Receiver()
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert (
                hub_main(["--data", str(harness.data), "webhook", "add", second.url, "--events", "tap"]) == 0
            )
        secret = out.getvalue().rsplit(": ", 1)[1].strip()
        kiosk = harness.kiosk("nouveau-webhook")
        card = "pcsc:04EB0005"
        assert kiosk.request("enrol", card, {"consents": NO})["ok"]
        tap = kiosk.request("tap", card)
        assert wait_until(lambda: len(second.got) >= 1, timeout=20)
        assert [(e["id"], e["type"]) for e in second.events(secret)] == [(tap["id"], "tap")]  # no backlog
    finally:
        second.close()


def test_the_cli_refuses_plain_http_off_this_machine_and_unknown_events(tmp_path, capsys):
    assert hub_main(["--data", str(tmp_path), "webhook", "add", "http://boutique.example/hook",
                     "--events", "purchase"]) == 1  # fmt: skip
    assert "http:// vers 127.0.0.1 seulement" in capsys.readouterr().err
    assert hub_main(["--data", str(tmp_path), "webhook", "add", "https://boutique.example/hook",
                     "--events", "purchase,achat"]) == 1  # fmt: skip
    assert "unknown event: achat" in capsys.readouterr().err
    assert hub_main(["--data", str(tmp_path), "webhook", "add", "https://boutique.example/hook",
                     "--events", "redeem"]) == 0  # fmt: skip
    (endpoint,) = load_endpoints(tmp_path)
    assert (tmp_path / "webhooks.json").stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert hub_main(["--data", str(tmp_path), "webhook", "list"]) == 0
    listed = capsys.readouterr().out
    assert endpoint.id in listed and endpoint.secret not in listed
    assert hub_main(["--data", str(tmp_path), "webhook", "remove", endpoint.id]) == 0
    assert load_endpoints(tmp_path) == []
