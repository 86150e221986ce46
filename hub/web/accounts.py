"""Staff accounts (roles staff < manager < admin), argon2 password hashes, server-side sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.ledger.clock import iso

ROLES = ("staff", "manager", "admin")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MIN_PASSWORD = 10
#: argon2id with argon2-cffi's defaults (RFC 9106 "low memory": t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()
#: Verified when the account does not exist, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A refused account operation; the message is in French and English."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    name: str
    role: str

    def has(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor_id(self) -> str:
        return f"staff:{self.name}"


@dataclass(frozen=True)
class Session:
    user: StaffUser
    token_hash: str
    csrf: str
    expires_at: str


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _NAME.match(name):
        raise AccountError(
            f"Nom invalide : {name!r} (minuscules, chiffres, . _ -, 32 caractères au plus) / "
            f"invalid name: {name!r} (lower-case letters, digits, . _ -, at most 32 characters)"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins / "
            f"password too short: at least {MIN_PASSWORD} characters"
        )
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# -- accounts (the `fidelio-hub user` commands; short transactions of their own) -------------------
def add_user(conn: sqlite3.Connection, name: str, role: str, password: str, now: datetime) -> StaffUser:
    name = check_name(name)
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu : {role} / unknown role: {role} ({', '.join(ROLES)})")
    hashed = hash_password(password)
    try:
        cur = conn.execute(
            "INSERT INTO staff_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, role, hashed, iso(now)),
        )
    except sqlite3.IntegrityError:
        raise AccountError(f"Le compte {name} existe déjà / account {name} already exists") from None
    return StaffUser(int(cur.lastrowid), name, role)


def list_users(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return list(conn.execute("SELECT name, role, created_at FROM staff_users ORDER BY name"))


def remove_user(conn: sqlite3.Connection, name: str) -> None:
    """Removes the account and ends its sessions (its audit lines stay: they name it in words)."""
    cur = conn.execute("DELETE FROM staff_users WHERE name = ?", (name.strip().lower(),))
    if cur.rowcount == 0:
        raise AccountError(f"Aucun compte {name} / no account {name}")


def password_hash_of(conn: sqlite3.Connection, name: str) -> tuple[StaffUser | None, str | None]:
    row = conn.execute(
        "SELECT id, name, role, password_hash FROM staff_users WHERE name = ?", (name.strip().lower(),)
    ).fetchone()
    if row is None:
        return None, None
    return StaffUser(row[0], row[1], row[2]), row[3]


# -- sessions ----------------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    conn: sqlite3.Connection, user: StaffUser, now: datetime, hours: int, address: str | None
) -> tuple[str, Session]:
    """Insert a new session (inside the caller's transaction); returns the cookie token, shown once."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = iso(now + timedelta(hours=hours))
    conn.execute(
        "INSERT INTO staff_sessions (token_hash, user_id, csrf, created_at, expires_at, address) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (token_hash(token), user.id, csrf, iso(now), expires, address),
    )
    return token, Session(user, token_hash(token), csrf, expires)


def end_session(conn: sqlite3.Connection, hashed: str, now: datetime) -> None:
    conn.execute(
        "UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL", (iso(now), hashed)
    )


def find_session(conn: sqlite3.Connection, token: str, now: datetime) -> Session | None:
    row = conn.execute(
        "SELECT s.token_hash, s.csrf, s.expires_at, u.id, u.name, u.role FROM staff_sessions s "
        "JOIN staff_users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.ended_at IS NULL AND s.expires_at > ?",
        (token_hash(token), iso(now)),
    ).fetchone()
    if row is None:
        return None
    return Session(StaffUser(row[3], row[4], row[5]), row[0], row[1], row[2])
