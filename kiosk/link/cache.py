"""The kiosk's last known copy of each card's member, for taps while the hub cannot answer (DESIGN §6).

Filled from the hub's replies: the reply's `member` object and its hub time `at`. A copy is only ever
replaced by one with a later (or the same) hub time, so a late or replayed reply never overwrites newer
balances. Bounded: the `max_cards` most recently written cards are kept, older ones are dropped.

SQLite, WAL, `synchronous=NORMAL`: a power cut may lose the last copies (they come back with the next
reply), never the file. Thread-safe (one lock around the one connection).

Personal data (the first name) is kept no longer than it is useful offline: a copy the hub has not
refreshed for `keep_days` (counted in hub time, from the hub time of the copies being stored, never by the
kiosk's clock, which a Pi without an RTC cannot vouch for) is dropped, and so is a card the hub answers `unknown_card` for (an erased member);
deleted rows are overwritten in the file (`secure_delete`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.session.model import CachedMember

log = logging.getLogger("fidelio.kiosk.cache")

MAX_CARDS = 50_000
KEEP_DAYS = 90
_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    card TEXT PRIMARY KEY,
    member TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    at_key TEXT NOT NULL,
    written INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS members_written ON members (written);
CREATE INDEX IF NOT EXISTS members_at ON members (at_key);
"""


_KEY_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def hub_time_key(at: str) -> str:
    """A hub time as a sortable UTC string; ValueError when it is not ISO 8601."""
    parsed = datetime.fromisoformat(at)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(_KEY_FORMAT)


def _days_before(key: str, days: int) -> str:
    return (datetime.strptime(key, _KEY_FORMAT) - timedelta(days=days)).strftime(_KEY_FORMAT)


class MemberCache:
    def __init__(self, path: Path | str, max_cards: int = MAX_CARDS, keep_days: int = KEEP_DAYS) -> None:
        self.path = Path(path)
        self.max_cards = max_cards
        self.keep_days = keep_days
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._open()
        self._count = int(self._conn.execute("SELECT COUNT(*) FROM members").fetchone()[0])
        self._written = int(self._conn.execute("SELECT COALESCE(MAX(written), 0) FROM members").fetchone()[0])
        with self._lock:
            self._prune()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
            conn.executescript(_SCHEMA)
            return conn
        except sqlite3.DatabaseError as exc:  # a cache can always start again empty
            log.error("member cache unreadable: starting a new one", extra={"error": str(exc)})
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            conn = self._connect()
            conn.executescript(_SCHEMA)
            return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA secure_delete=ON")  # a dropped copy's first name is not left in free pages
        return conn

    def put(self, card: str, member: dict[str, Any], seen_at: str) -> bool:
        """Keep `member` as the card's copy unless a later one is stored. True if it was stored."""
        return self.put_many([(card, member, seen_at)]) == 1

    def put_many(self, items: Iterable[tuple[str, dict[str, Any], str]]) -> int:
        """Several copies in one transaction (the link's batches); returns how many were stored."""
        stored: list[str] = []
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for card, member, seen_at in items:
                    key = self._put_one(card, member, seen_at)
                    if key is not None:
                        stored.append(key)
                # retention counted from this batch's hub time: a hub clock that once ran ahead does
                # not keep deleting what later, right-timed replies store
                expired = self._prune(max(stored) if stored else None)
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._count = int(self._conn.execute("SELECT COUNT(*) FROM members").fetchone()[0])
                log.exception("member cache write failed")
                return 0
            if expired:
                self._scrub()
        return len(stored)

    def _put_one(self, card: str, member: dict[str, Any], seen_at: str) -> str | None:
        """The copy's hub time key if it was stored; None when it was not (a later one is held)."""
        try:
            key = hub_time_key(seen_at)
            text = json.dumps(member, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, TypeError) as exc:
            log.warning("member copy not cached", extra={"error": str(exc)})
            return None
        row = self._conn.execute("SELECT at_key FROM members WHERE card = ?", (card,)).fetchone()
        if row is not None and row[0] > key:
            return None  # we hold a later copy
        self._written += 1
        if row is None:
            self._conn.execute(
                "INSERT INTO members (card, member, seen_at, at_key, written) VALUES (?, ?, ?, ?, ?)",
                (card, text, seen_at, key, self._written),
            )
            self._count += 1
        else:
            self._conn.execute(
                "UPDATE members SET member = ?, seen_at = ?, at_key = ?, written = ? WHERE card = ?",
                (text, seen_at, key, self._written, card),
            )
        return key

    def _prune(self, now_key: str | None = None) -> int:
        """Drop copies older than `keep_days` before `now_key` (a hub time), then the least recently
        written beyond `max_cards`. Returns how many were dropped for their age."""
        expired = 0
        if now_key is not None:
            cur = self._conn.execute(
                "DELETE FROM members WHERE at_key < ?", (_days_before(now_key, self.keep_days),)
            )
            expired = max(cur.rowcount, 0)
            self._count -= expired
        excess = self._count - self.max_cards
        if excess > 0:
            self._conn.execute(
                "DELETE FROM members WHERE card IN (SELECT card FROM members ORDER BY written LIMIT ?)",
                (excess,),
            )
            self._count -= excess
        return expired

    def _scrub(self) -> None:
        """After personal data was dropped: the WAL's old pages go too (secure_delete covers the file)."""
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # a reader holds the WAL: the next checkpoint overwrites it
            log.warning("member cache checkpoint failed", extra={"error": str(exc)})

    def forget(self, card: str) -> None:
        """Drop a card's copy (the hub no longer knows the card: an erased member, a removed card)."""
        with self._lock:
            cur = self._conn.execute("DELETE FROM members WHERE card = ?", (card,))
            self._count -= cur.rowcount
            if cur.rowcount:
                self._scrub()

    def get(self, card: str) -> CachedMember | None:
        with self._lock:
            row = self._conn.execute("SELECT member, seen_at FROM members WHERE card = ?", (card,)).fetchone()
        if row is None:
            return None
        try:
            member = json.loads(row[0])
        except ValueError:
            return None
        return CachedMember(member=member, seen_at=row[1]) if isinstance(member, dict) else None

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def close(self) -> None:
        with self._lock:
            self._conn.close()
