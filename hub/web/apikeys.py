"""API keys for integrations (a POS, a web shop): scoped, shown once, stored as a SHA-256 of the secret.

A key reads `fk_<key id>_<secret>`: the key id finds the row, the secret (256 random bits, so a fast
hash is enough: nothing to brute-force) is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from hub.ledger.clock import iso

SCOPES = ("lookup", "purchase", "vouchers", "redeem")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
_KEY = re.compile(r"^fk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


class ApiKeyError(ValueError):
    """A refused key operation; the message is in French and English."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    scopes: frozenset[str]

    @property
    def actor_id(self) -> str:
        return f"api:{self.name}"


def parse_scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ApiKeyError(
            f"Portée inconnue : {', '.join(unknown) or '(aucune)'} ; choix : {', '.join(SCOPES)} / "
            f"unknown scope: {', '.join(unknown) or '(none)'}; choose from {', '.join(SCOPES)}"
        )
    return sorted(set(scopes))


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_key(conn: sqlite3.Connection, name: str, scopes: list[str], now: datetime) -> str:
    """Create a key; returns it in full (the only time it is ever shown)."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise ApiKeyError(f"Nom invalide : {name!r} / invalid name: {name!r}")
    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    try:
        conn.execute(
            "INSERT INTO api_keys (name, key_id, secret_sha256, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, key_id, _sha(secret), ",".join(scopes), iso(now)),
        )
    except sqlite3.IntegrityError:
        raise ApiKeyError(f"La clé {name} existe déjà / key {name} already exists") from None
    return f"fk_{key_id}_{secret}"


def list_keys(conn: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
    return list(conn.execute("SELECT name, scopes, created_at, revoked_at FROM api_keys ORDER BY name"))


def revoke_key(conn: sqlite3.Connection, name: str, now: datetime) -> None:
    cur = conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        (iso(now), name.strip().lower()),
    )
    if cur.rowcount == 0:
        raise ApiKeyError(f"Aucune clé active {name} / no active key {name}")


def find_key(conn: sqlite3.Connection, presented: str) -> ApiKey | None:
    match = _KEY.match(presented.strip())
    if match is None:
        return None
    row = conn.execute(
        "SELECT id, name, secret_sha256, scopes FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
        (match.group(1),),
    ).fetchone()
    if row is None or not hmac.compare_digest(row[2], _sha(match.group(2))):
        return None
    return ApiKey(row[0], row[1], frozenset(row[3].split(",")))
