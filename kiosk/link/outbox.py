"""The kiosk's outbox: every request is on disk before it is published, and stays until the hub answers it.

SQLite in WAL mode with `synchronous=FULL`: when `add` returns, the request survives a kill -9 or a power
cut (DESIGN §6). `pending()` gives the requests in the order they were added, for the replay on
reconnect. A row that cannot be read back as a request is logged and moved to the `set_aside` table (never
deleted, never sent); a file that is not a readable database is renamed aside and a new one started. The
kiosk keeps working in both cases.

Thread-safe: the UI thread adds, the link's threads remove (one lock around the one connection).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fidelio.contract import Request, dumps
from kiosk.session.model import Words

log = logging.getLogger("fidelio.kiosk.outbox")

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS set_aside (
    seq INTEGER PRIMARY KEY,
    id TEXT,
    payload BLOB,
    reason TEXT NOT NULL,
    set_aside_at TEXT NOT NULL
);
"""
_SQLITE_FULL = 13
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

FULL_WORDS = Words(
    "La mémoire de la borne est pleine : cette demande n'a pas été enregistrée. Prévenez le personnel.",
    "The kiosk's storage is full: this request was not saved. Please tell a member of staff.",
)
BROKEN_WORDS = Words(
    "La borne n'arrive pas à enregistrer cette demande. Prévenez le personnel.",
    "The kiosk cannot save this request. Please tell a member of staff.",
)


class OutboxError(RuntimeError):
    """A request could not be stored; `words` is what the screen shows (nothing was half-written)."""

    def __init__(self, words: Words, detail: str) -> None:
        super().__init__(f"{words.fr} / {words.en} ({detail})")
        self.words = words
        self.detail = detail


class OutboxFull(OutboxError):
    """The disk (or the file's size limit) is full."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_disk_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "full" in str(exc)
    return code & 0xFF in (_SQLITE_FULL, _SQLITE_IOERR)


def request_from_payload(payload: bytes | str) -> Request:
    """A stored request back from its JSON; ValueError when the row is not one."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    v, rid, type_, kiosk, card = (data.get(k) for k in ("v", "id", "type", "kiosk", "card"))
    sent_at, body = data.get("sent_at"), data.get("body", {})
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError("v is not an integer")
    for name, value in (("id", rid), ("type", type_), ("kiosk", kiosk), ("card", card)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} is not a string")
    if sent_at is not None and not isinstance(sent_at, str):
        raise ValueError("sent_at is not a string")
    if not isinstance(body, dict):
        raise ValueError("body is not an object")
    return Request(v, rid, type_, kiosk, card, sent_at, body)


class Outbox:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        #: where an unreadable database file was moved at open (for the staff screen and logs), else None
        self.set_aside_file: Path | None = None
        self._lock = threading.Lock()
        self._conn = self._open()

    # -- opening -----------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect()
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {check}")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            return conn
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if _is_disk_full(exc):
                raise OutboxFull(FULL_WORDS, str(exc)) from exc
            if getattr(exc, "sqlite_errorcode", _SQLITE_CORRUPT) & 0xFF not in (
                _SQLITE_CORRUPT,
                _SQLITE_NOTADB,
            ):
                raise OutboxError(BROKEN_WORDS, str(exc)) from exc
            self.set_aside_file = self._move_aside(str(exc))
            conn = self._connect()
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            return conn

    def _move_aside(self, why: str) -> Path:
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.rename(Path(f"{aside}{suffix}"))
        log.error(
            "outbox unreadable: moved aside, starting a new one",
            extra={"path": str(self.path), "moved_to": str(aside), "error": why},
        )
        return aside

    # -- writing -----------------------------------------------------------------------------------
    def add(self, request: Request) -> None:
        """Store a request; durable (fsync'd) when this returns. An id already stored is kept as it was.

        Raises OutboxFull when the disk is full, OutboxError on another storage failure; in both cases
        nothing was written."""
        payload = dumps(request.to_json())
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT OR IGNORE INTO requests (id, payload, added_at) VALUES (?, ?, ?)",
                    (request.id, payload, _now()),
                )
            except sqlite3.Error as exc:
                self._rollback()
                if _is_disk_full(exc):
                    raise OutboxFull(FULL_WORDS, str(exc)) from exc
                raise OutboxError(BROKEN_WORDS, str(exc)) from exc

    def remove(self, request_id: str) -> None:
        self.remove_many([request_id])

    def remove_many(self, request_ids: Iterable[str]) -> None:
        """Delete answered requests in one transaction (one fsync for the lot)."""
        ids = [(rid,) for rid in request_ids]
        if not ids:
            return
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("DELETE FROM requests WHERE id = ?", ids)
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("outbox rollback failed")

    # -- reading -----------------------------------------------------------------------------------
    def pending(self) -> list[Request]:
        """Every stored request, oldest first. Unreadable rows are moved to `set_aside` and logged."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, id, payload FROM requests ORDER BY seq").fetchall()
            good: list[Request] = []
            bad: list[tuple[int, Any, Any, str]] = []
            for seq, rid, payload in rows:
                try:
                    request = request_from_payload(payload)
                    if request.id != rid:
                        raise ValueError(f"payload id {request.id!r} is not the row's id {rid!r}")
                except (ValueError, TypeError, UnicodeDecodeError, RecursionError) as exc:
                    bad.append((seq, rid, payload, str(exc)))
                    continue
                good.append(request)
            if bad:
                self._set_aside(bad)
            return good

    def _set_aside(self, rows: list[tuple[int, Any, Any, str]]) -> None:
        for seq, rid, _payload, reason in rows:
            log.error("unreadable outbox row set aside", extra={"seq": seq, "id": rid, "reason": reason})
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT INTO set_aside (id, payload, reason, set_aside_at) VALUES (?, ?, ?, ?)",
                [(rid, payload, reason, _now()) for _seq, rid, payload, reason in rows],
            )
            self._conn.executemany("DELETE FROM requests WHERE seq = ?", [(row[0],) for row in rows])
            self._conn.execute("COMMIT")
        except sqlite3.Error:  # they stay where they are; pending() skips them again next time
            self._rollback()
            log.exception("could not move unreadable outbox rows aside")

    def set_aside_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM set_aside").fetchone()[0])

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

    @property
    def conn(self) -> sqlite3.Connection:
        """The SQLite connection (diagnostics and tests; take no lock-free writes through it)."""
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()
