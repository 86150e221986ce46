"""Search keys for finding members fast (pure): a folded first name and a phone in digits.

They are stored beside the member (`members.name_key`, `members.phone_key`, both indexed), so a prefix
search is a range scan of one index whatever the number of members: `key >= 'cam' AND key < 'can'`.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_CARD = re.compile(r"^([a-z][a-z0-9]{1,11}):([0-9a-f]+)$", re.IGNORECASE)


def name_key(text: str | None) -> str | None:
    """'  Éloïse  Dupré ' -> 'eloise dupre': accents and case do not matter, spaces are collapsed."""
    if not text:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _SPACES.sub(" ", plain.casefold()).strip()
    return folded or None


def phone_key(text: str | None) -> str | None:
    """A phone in national digits: '+33 6 12-34.56.78', '0033612345678' and '06 12 34 56 78' all give
    '0612345678' (French numbers; other international numbers keep their country code's digits)."""
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    stripped = text.strip()
    if stripped.startswith("+"):
        digits = "00" + digits
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    return digits or None


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (for a range scan)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def card_token(text: str) -> str | None:
    """'pcsc:04a1b2c3' -> 'pcsc:04A1B2C3' (the contract's form), or None when it is not a card token."""
    match = _CARD.match(text.strip())
    if match is None:
        return None
    return f"{match.group(1).lower()}:{match.group(2).upper()}"
