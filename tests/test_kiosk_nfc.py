"""The nfcpy reader on nfcpy's own `udp` driver: the reader's ContactlessFrontend senses for Type A
targets, a second ContactlessFrontend on the same udp port listens as a card with a chosen UID
(kiosk/hardware/nfc_udp_tag.py) — taps, resting cards, removal, two cards, errors, stop()."""

from __future__ import annotations

import socket
import time

import pytest

from kiosk.hardware.cards import card_token
from kiosk.hardware.nfc import NfcReader
from kiosk.hardware.nfc_udp_tag import UdpTag
from kiosk.hardware.reader import CardEvent
from tests.support import wait_until

UID7 = bytes.fromhex("04A1B2C3D4E5F6")  # the card of the PC/SC tests: the same token whichever reader
UID4 = bytes.fromhex("0A0B0C0D")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_udp_port()


@pytest.fixture
def reader(port):
    events: list[CardEvent] = []
    r = NfcReader(f"udp:127.0.0.1:{port}", poll_seconds=0.03, retry_seconds=0.2)
    r.start(events.append)
    yield r, events
    r.stop()


def kinds(events: list[CardEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.token) for e in events]


def test_tap_rest_remove_and_a_second_card(reader, port):
    r, events = reader
    card = UdpTag(UID7, port)
    assert wait_until(lambda: len(events) == 1, 5)
    time.sleep(1.5)  # resting on the reader for dozens of sense rounds: still one tap
    assert len(events) == 1
    card.remove()
    assert wait_until(lambda: len(events) == 2, 5)
    second = UdpTag(UID4, port)
    assert wait_until(lambda: len(events) == 3, 5)
    second.remove()
    assert wait_until(lambda: len(events) == 4, 5)
    token7, token4 = card_token(UID7), card_token(UID4)
    assert token7 == "pcsc:04A1B2C3D4E5F6"  # what the PC/SC reader gives for this card
    assert kinds(events) == [("presented", token7), ("removed", token7), ("presented", token4),
                             ("removed", token4)]  # fmt: skip
    assert {e.reader for e in events} == {"nfc"} and r.errors == 0 and r.opened == 1 and r.health == "ok"


@pytest.mark.parametrize("with_card", [False, True])
def test_stop_returns_promptly_with_or_without_a_card(port, with_card: bool):
    r = NfcReader(f"udp:127.0.0.1:{port}", poll_seconds=0.03)
    events: list[CardEvent] = []
    card = UdpTag(UID4, port) if with_card else None
    r.start(events.append)
    assert wait_until(lambda: len(events) == 1 if with_card else r.opened == 1, 5)
    time.sleep(0.2)
    started = time.monotonic()
    r.stop()
    took = time.monotonic() - started
    assert r._thread is not None and not r._thread.is_alive()
    assert took < 1.5, took  # one sense round at most: the udp driver waits 1 s for an answer
    if card is not None:
        card.remove()


def test_a_device_failing_under_the_reader_is_opened_again(reader, port):
    r, events = reader
    card = UdpTag(UID7, port)
    assert wait_until(lambda: len(events) == 1 and r._clf is not None, 5)
    # the device's transport dies, as nfcpy's USB transport does when the reader is unplugged
    r._clf.device.socket.close()  # type: ignore[attr-defined]
    assert wait_until(lambda: r.opened == 2, 5)
    assert wait_until(lambda: len(events) == 3, 5)
    token = card_token(UID7)
    assert kinds(events) == [("presented", token), ("removed", token), ("presented", token)]
    assert r.errors == 1 and r._thread is not None and r._thread.is_alive()
    card.remove()
    assert wait_until(lambda: len(events) == 4, 5)


def test_a_missing_device_is_retried_without_end():
    events: list[CardEvent] = []
    r = NfcReader("usb:ffff:ffff", retry_seconds=0.1)  # nfcpy's USB search: no such reader anywhere
    r.start(events.append)
    try:
        assert wait_until(lambda: r.errors >= 3, 5)
        assert events == [] and r.opened == 0 and r._thread is not None and r._thread.is_alive()
        assert r.health == "absent"
    finally:
        started = time.monotonic()
        r.stop()
        assert time.monotonic() - started < 1


def test_the_udp_card_refuses_what_nfcpys_udp_listener_cannot_answer(port):
    with pytest.raises(ValueError, match="4- or 7-byte"):
        UdpTag(bytes(range(1, 11)), port)  # 10-byte UID: see nfc_udp_tag's docstring
