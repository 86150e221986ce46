"""Mosquitto 2.0 password files, written without `mosquitto_passwd`.

A line is `username:$7$<iterations>$<base64 salt>$<base64 hash>`: PBKDF2-HMAC-SHA512 of the UTF-8
password, 12-byte salt, 64-byte hash — what `mosquitto_passwd` 2.0 writes (101 iterations). The
passwords we generate carry 192 random bits, so the iteration count is not what protects them, and
a low one keeps each CONNECT cheap on a Raspberry Pi.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64


def new_password() -> str:
    """192 random bits, URL-safe base64 (no quoting needed in TOML, shells or config files)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Check a password against a `$7$` hash (for tests and diagnostics; the broker does the real check)."""
    try:
        _, kind, iterations, salt, digest = encoded.split("$")
        if kind != "7":
            return False
        raw_salt, raw_digest = base64.b64decode(salt), base64.b64decode(digest)
        computed = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), raw_salt, int(iterations), len(raw_digest)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed, raw_digest)


def parse_password_file(text: str) -> dict[str, str]:
    """username -> hash, in file order; blank lines and comments are ignored."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        username, sep, encoded = line.partition(":")
        if sep:
            entries[username] = encoded
    return entries


def format_password_file(entries: dict[str, str]) -> str:
    for username in entries:
        if not username or ":" in username or any(c.isspace() for c in username):
            raise ValueError(f"invalid MQTT user name {username!r}")
    return "".join(f"{username}:{encoded}\n" for username, encoded in entries.items())
