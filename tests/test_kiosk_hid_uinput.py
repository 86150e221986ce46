"""The keyboard-wedge reader on a real input device: a virtual keyboard made with the kernel's uinput
types a UID and Enter, the way a wedge reader does, and HidReader (holding the device grabbed) yields
the card's PC/SC token. Needs /dev/uinput; machines without it (containers) skip, saying why."""

from __future__ import annotations

import os

import pytest

from kiosk.hardware.hid import ENTER_KEYS, KEY_CHARS, HidReader
from kiosk.hardware.reader import CardEvent
from tests.support import wait_until

UINPUT = "/dev/uinput"
UID = bytes.fromhex("04A1B2C3")
TOP_ROW = {char: code for code, char in KEY_CHARS.items() if code < 71}  # not the keypad

pytestmark = pytest.mark.skipif(
    not os.path.exists(UINPUT),
    reason=f"{UINPUT} is absent here (no uinput kernel module, or a container without the device): "
    "a virtual keyboard cannot be made",
)


def test_a_virtual_wedge_reader_types_a_uid_and_the_hid_reader_yields_its_token():
    from evdev import InputDevice, UInput, ecodes

    def press(ui: UInput, code: int) -> None:
        ui.write(ecodes.EV_KEY, code, 1)
        ui.write(ecodes.EV_KEY, code, 0)
        ui.syn()

    def grabbed(path: str) -> bool:
        """Another grab fails while the reader holds the device: its digits never reach the UI."""
        probe = InputDevice(path)
        try:
            probe.grab()
        except OSError:
            return True
        else:
            probe.ungrab()
            return False
        finally:
            probe.close()

    with UInput({ecodes.EV_KEY: sorted(set(KEY_CHARS) | ENTER_KEYS)}, name="fidelio-test-wedge") as ui:
        path = ui.device.path
        events: list[CardEvent] = []
        reader = HidReader(path, "dec")
        reader.start(events.append)
        try:
            assert wait_until(lambda: grabbed(path), 5), "HidReader never grabbed the device"
            for char in str(int.from_bytes(UID, "big")).zfill(10):  # 0077705923, as readers type it
                press(ui, TOP_ROW[char])
            press(ui, ecodes.KEY_ENTER)
            assert wait_until(lambda: len(events) == 2, 5)
            token = "pcsc:04A1B2C3"  # the PC/SC token of the same card
            assert [(e.kind, e.token, e.reader) for e in events] == [
                ("presented", token, "hid"),
                ("removed", token, "hid"),
            ]
        finally:
            reader.stop()
