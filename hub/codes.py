"""Voucher and member codes: Crockford base 32, typable groups, a check character. Pure (bytes in).

A voucher code carries 80 random bits (16 symbols) plus one check symbol computed with the Luhn mod N
algorithm over the same 32-symbol alphabet, so every single mistyped symbol and most swaps of two
neighbours are caught before the ledger is even asked. Crockford's alphabet has no I, L, O or U; on
input, O reads as 0 and I/L as 1, dashes and spaces are ignored and case does not matter.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})
VOUCHER_RANDOM_BYTES = 10  # 80 bits
VOUCHER_SYMBOLS = 16
MEMBER_RANDOM_BYTES = 5  # 40 bits: 8 symbols, unique-checked by the ledger


class CodeError(ValueError):
    """A code that cannot be right: wrong length, a symbol outside the alphabet, a bad check symbol."""


def _encode(data: bytes, symbols: int) -> str:
    value = int.from_bytes(data, "big")
    out = []
    for _ in range(symbols):
        out.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def check_symbol(payload: str) -> str:
    """Luhn mod 32 over the symbols of `payload` (already normalised)."""
    factor = 2
    total = 0
    for ch in reversed(payload):
        addend = factor * _VALUE[ch]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def _group(text: str, size: int = 4) -> str:
    return "-".join(text[i : i + size] for i in range(0, len(text), size))


def new_voucher_code(random_bytes: bytes) -> str:
    """`random_bytes` must be VOUCHER_RANDOM_BYTES from a CSPRNG (the caller's `secrets.token_bytes`)."""
    if len(random_bytes) != VOUCHER_RANDOM_BYTES:
        raise ValueError(f"need {VOUCHER_RANDOM_BYTES} random bytes")
    payload = _encode(random_bytes, VOUCHER_SYMBOLS)
    return _group(payload + check_symbol(payload))


def normalise_voucher_code(typed: str) -> str:
    """The canonical grouped form of a typed or scanned code, or CodeError saying what is wrong."""
    raw = "".join(ch for ch in typed.upper() if ch not in " -_\t\r\n")
    if len(raw) != VOUCHER_SYMBOLS + 1:
        raise CodeError(
            f"un code de bon a {VOUCHER_SYMBOLS + 1} caractères / a voucher code has "
            f"{VOUCHER_SYMBOLS + 1} characters ({len(raw)} given)"
        )
    bad = sorted({ch for ch in raw if ch not in _VALUE})
    if bad:
        raise CodeError(f"caractère invalide / invalid character: {''.join(bad)}")
    canon = "".join(ALPHABET[_VALUE[ch]] for ch in raw)
    if check_symbol(canon[:-1]) != canon[-1]:
        raise CodeError(
            "code mal saisi (caractère de contrôle faux) / mistyped code (check character is wrong)"
        )
    return _group(canon)


def new_member_code(random_bytes: bytes) -> str:
    if len(random_bytes) != MEMBER_RANDOM_BYTES:
        raise ValueError(f"need {MEMBER_RANDOM_BYTES} random bytes")
    return _encode(random_bytes, 8)
