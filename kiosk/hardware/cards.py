"""Card tokens (DESIGN §3: `<reader kind>:<UID hex, upper case>`), whatever the reader sends. Pure.

Keyboard-wedge (HID) readers type the UID as digits, in decimal or hex, and often with the bytes in
reverse order; `hid_token` turns what they type into the token PC/SC gives for the same card, so one
card is one member whichever reader reads it.
"""

from __future__ import annotations

import re

#: Every reader that reads an ISO 14443 UID (PC/SC, nfcpy, keyboard wedge, simulated) yields the token
#: PC/SC gives for that card, so one card is one member whichever reader reads it. The prefix leaves room
#: for a secure card type (e.g. "desfire:" with a cryptographic check) whose tokens are not plain UIDs.
UID_KIND = "pcsc"
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


class CardTokenError(ValueError):
    pass


def card_token(uid: bytes) -> str:
    """The token of a card's UID (4, 7 or 10 bytes for ISO 14443; 2 to 32 accepted)."""
    if not 2 <= len(uid) <= 32:
        raise CardTokenError(f"a UID has 2 to 32 bytes, not {len(uid)}")
    return f"{UID_KIND}:{uid.hex().upper()}"


def hid_token(typed: str, fmt: str = "dec", reverse: bool = False, uid_bytes: int = 4) -> str:
    """What a keyboard-wedge reader typed (`fmt` "dec" or "hex"), as the PC/SC token of that card."""
    text = typed.strip()
    if fmt == "dec":
        if not text.isdigit():
            raise CardTokenError(f"expected decimal digits, got {typed!r}")
        value = int(text)
        if value >= 1 << (8 * uid_bytes):
            raise CardTokenError(f"{typed!r} is more than {uid_bytes} bytes")
        uid = value.to_bytes(uid_bytes, "big")
    elif fmt == "hex":
        if not _HEX.match(text) or len(text) % 2:
            raise CardTokenError(f"expected an even number of hex digits, got {typed!r}")
        uid = bytes.fromhex(text)
    else:
        raise CardTokenError(f"unknown HID format {fmt!r}")
    if reverse:
        uid = uid[::-1]
    return card_token(uid)
