"""Card tokens and the tap rule, the same whichever reader reads the card (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fidelio.contract import new_request, parse_request
from fidelio.contract.messages import dumps
from kiosk.hardware.cards import CardTokenError, card_token, hid_token
from kiosk.hardware.hid import KEY_CHARS, tokens_from_events
from kiosk.hardware.reader import SimulatedReader, TapDebouncer

UID = bytes.fromhex("04A1B2C3")


def test_hid_formats_normalise_to_the_pcsc_token():
    pcsc = card_token(UID)
    assert pcsc == "pcsc:04A1B2C3"
    assert hid_token(str(int.from_bytes(UID, "big")), "dec") == pcsc
    assert hid_token(str(int.from_bytes(UID[::-1], "big")), "dec", reverse=True) == pcsc
    assert hid_token("04a1b2c3", "hex") == pcsc
    assert hid_token("C3B2A104", "hex", reverse=True) == pcsc
    assert hid_token("0077705923", "dec") == pcsc  # leading zeros, as wedge readers type them


@pytest.mark.parametrize(
    ("typed", "fmt"), [("12ab", "dec"), ("ABC", "hex"), ("99999999999", "dec"), ("", "hex")]
)
def test_bad_hid_input_is_refused(typed, fmt):
    with pytest.raises(CardTokenError):
        hid_token(typed, fmt)


@given(st.binary(min_size=4, max_size=10))
def test_every_token_is_accepted_by_the_contract(uid):
    token = card_token(uid)
    req = new_request("tap", "k1", token)
    assert parse_request(dumps(req.to_json()), "k1").card == token


def test_a_resting_card_is_one_tap_until_removed():
    d = TapDebouncer("r1")
    kinds = [
        [e.kind for e in d.see(t, 0.0)] for t in ("pcsc:01", "pcsc:01", "pcsc:01", None, None, "pcsc:01")
    ]
    assert kinds == [["presented"], [], [], ["removed"], [], ["presented"]]
    swap = d.see("pcsc:02", 1.0)  # a second card replaces the first without a gap
    assert [(e.kind, e.token) for e in swap] == [("removed", "pcsc:01"), ("presented", "pcsc:02")]


def test_simulated_reader_reports_taps():
    events = []
    reader = SimulatedReader()
    reader.start(events.append)
    reader.tap("pcsc:0A0B0C0D")
    reader.present("pcsc:0A0B0C0D")
    reader.present("pcsc:0A0B0C0D")
    reader.stop()
    reader.tap("pcsc:FFFF")  # stopped: nothing reported
    assert [(e.kind, e.token) for e in events] == [
        ("presented", "pcsc:0A0B0C0D"),
        ("removed", "pcsc:0A0B0C0D"),
        ("presented", "pcsc:0A0B0C0D"),
    ]


def _typed(text: str, enter: int = 28) -> list[tuple[int, int, int]]:
    """A recorded input-event stream: key down then up for each character, then Enter."""
    codes = {v: k for k, v in KEY_CHARS.items() if k < 70}  # top-row digits and letters
    stream = []
    for ch in text:
        stream += [(1, codes[ch], 1), (0, 0, 0), (1, codes[ch], 0), (0, 0, 0)]
    return [*stream, (4, 4, 458792), (1, enter, 1), (1, enter, 0)]


def test_recorded_hid_streams_give_the_pcsc_token():
    decimal = str(int.from_bytes(UID, "big")).zfill(10)
    reversed_dec = str(int.from_bytes(UID[::-1], "big")).zfill(10)
    assert tokens_from_events(_typed(decimal)) == ["pcsc:04A1B2C3"]
    assert tokens_from_events(_typed(reversed_dec, enter=96), reverse=True) == ["pcsc:04A1B2C3"]
    assert tokens_from_events(_typed("04A1B2C3"), fmt="hex") == ["pcsc:04A1B2C3"]
    # two cards in a row, a noisy key in between (reset), an empty Enter, a read too long for 4 bytes
    stream = [*_typed(decimal), (1, 57, 1), *_typed(""), *_typed("99999999999"), *_typed(decimal)]
    assert tokens_from_events(stream) == ["pcsc:04A1B2C3", "pcsc:04A1B2C3"]


def test_a_keyboard_wedge_reader_says_whether_its_device_is_there(tmp_path):
    """HidReader on a real path: missing (unplugged) is "absent"; a file that is no input device (or one it
    may not open) is "error"; what readers_state makes of them for the kiosk's status."""
    import time

    from kiosk.hardware.hid import HidReader
    from kiosk.hardware.reader import readers_state

    missing = HidReader(str(tmp_path / "fidelio-hid-reader"))
    not_input = HidReader("/dev/null", name="wedge")
    simulated = SimulatedReader()
    assert missing.health == "starting"
    for reader in (missing, not_input):
        reader.start(lambda _event: None)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "starting" in (missing.health, not_input.health):
            time.sleep(0.02)
        assert (missing.health, not_input.health) == ("absent", "error")
        assert readers_state([missing, not_input, simulated]) == "absent: hid; error: wedge; ok: simulated"
        assert readers_state([simulated]) == "ok: simulated" and readers_state([]) == "none"
    finally:
        for reader in (missing, not_input):
            reader.stop()
