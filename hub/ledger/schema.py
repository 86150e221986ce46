"""Opening the ledger database: integrity, versioned migrations, pragmas.

The schema version lives in `PRAGMA user_version`. Each migration runs in one transaction. A database
that is corrupt or was written by a newer Fidelio is refused with a message that says how to restore.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 3

RESTORE_HINT_FR = (
    "Arrêtez le hub, mettez ce fichier de côté et restaurez la dernière sauvegarde "
    "(fidelio-hub --data DIR restore, ou copiez DIR/backups/<date>.sqlite sur DIR/ledger.sqlite), "
    "puis lancez « fidelio-hub --data DIR check »."
)
RESTORE_HINT_EN = (
    "Stop the hub, move this file aside and restore the latest backup "
    "(copy DIR/backups/<date>.sqlite over DIR/ledger.sqlite), then run 'fidelio-hub --data DIR check'."
)


class LedgerOpenError(RuntimeError):
    """The ledger cannot be opened safely; the message says why and how to restore (FR / EN)."""


_V1 = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE programs (
            version INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            installed_at TEXT NOT NULL
        );
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            first_name TEXT, email TEXT, phone TEXT, birth_date TEXT,
            enrolled_at TEXT NOT NULL,
            referrer_id INTEGER REFERENCES members(id),
            tier TEXT,
            points INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
            stamps INTEGER NOT NULL DEFAULT 0 CHECK (stamps >= 0),
            cashback_cents INTEGER NOT NULL DEFAULT 0 CHECK (cashback_cents >= 0),
            spend_cents INTEGER NOT NULL DEFAULT 0,
            visits INTEGER NOT NULL DEFAULT 0,
            purchases INTEGER NOT NULL DEFAULT 0,
            last_activity_at TEXT,
            last_stamp_at TEXT,
            birthday_bonus_years TEXT NOT NULL DEFAULT '',
            erased_at TEXT
        );
        CREATE TABLE cards (
            token TEXT PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES members(id),
            added_at TEXT NOT NULL
        );
        CREATE INDEX cards_member ON cards(member_id);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kiosk TEXT NOT NULL,
            type TEXT NOT NULL,
            card TEXT,
            member_id INTEGER REFERENCES members(id),
            received_at TEXT NOT NULL,
            sent_at TEXT,
            body TEXT NOT NULL,
            ok INTEGER NOT NULL,
            error_code TEXT,
            program_version INTEGER NOT NULL REFERENCES programs(version),
            reply BLOB NOT NULL,
            hub_event TEXT NOT NULL
        );
        CREATE TABLE postings (
            seq INTEGER PRIMARY KEY,
            event_seq INTEGER REFERENCES events(seq),
            member_id INTEGER NOT NULL REFERENCES members(id),
            account TEXT NOT NULL CHECK (account IN
                ('points','stamps','cashback_cents','spend_cents','visits','purchases')),
            delta INTEGER NOT NULL CHECK (typeof(delta) = 'integer'),
            at TEXT NOT NULL,
            expires_at TEXT,
            rule TEXT NOT NULL,
            program_version INTEGER NOT NULL REFERENCES programs(version)
        );
        -- Covering: every per-member read (rolling sums, expiry, fold) is answered from the index alone.
        CREATE INDEX postings_member ON postings(member_id, account, at, delta, expires_at);
        CREATE TABLE vouchers (
            code TEXT PRIMARY KEY,
            member_id INTEGER REFERENCES members(id),
            reward_id TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            event_seq INTEGER REFERENCES events(seq),
            used_at TEXT,
            used_by TEXT
        );
        CREATE INDEX vouchers_reward ON vouchers(reward_id);
        CREATE INDEX vouchers_member ON vouchers(member_id);
        CREATE TABLE consents (
            seq INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES members(id),
            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
            granted INTEGER NOT NULL,
            at TEXT NOT NULL,
            policy_version TEXT NOT NULL,
            source TEXT NOT NULL
        );
        CREATE INDEX consents_member ON consents(member_id);
        CREATE TABLE card_spend (
            seq INTEGER PRIMARY KEY,
            card TEXT NOT NULL,
            amount_cents INTEGER NOT NULL,
            at TEXT NOT NULL,
            event_seq INTEGER REFERENCES events(seq)
        );
        CREATE INDEX card_spend_card ON card_spend(card);

        -- Append-only: the ledger's history is never rewritten.
        CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
            BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
        CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
            BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER vouchers_no_delete BEFORE DELETE ON vouchers
            BEGIN SELECT RAISE(ABORT, 'vouchers are append-only'); END;
        CREATE TRIGGER vouchers_single_use BEFORE UPDATE ON vouchers
            WHEN OLD.used_at IS NOT NULL OR NEW.code IS NOT OLD.code OR NEW.value IS NOT OLD.value
              OR NEW.member_id IS NOT OLD.member_id OR NEW.expires_at IS NOT OLD.expires_at
            BEGIN SELECT RAISE(ABORT, 'a voucher is used once and never changed'); END;
"""

_V2 = """
        -- Member search (hub/ledger/search.py): prefix range scans on indexed keys.
        ALTER TABLE members ADD COLUMN name_key TEXT;
        ALTER TABLE members ADD COLUMN phone_key TEXT;
        CREATE INDEX members_name_key ON members(name_key);
        CREATE INDEX members_phone_key ON members(phone_key);
        CREATE INDEX members_email ON members(email);
        -- A member's history, newest first, without scanning their postings.
        CREATE INDEX postings_member_seq ON postings(member_id, seq);

        -- The staff web and the HTTP API (hub/web).
        CREATE TABLE staff_users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            role TEXT NOT NULL CHECK (role IN ('staff', 'manager', 'admin')),
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE staff_sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            address TEXT,
            ended_at TEXT
        );
        CREATE INDEX staff_sessions_user ON staff_sessions(user_id);
        CREATE TABLE api_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            key_id TEXT NOT NULL UNIQUE,
            secret_sha256 TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        -- Who did what, when, from where. Append-only, like the ledger.
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT,
            address TEXT
        );
        CREATE INDEX audit_actor ON audit_log(actor, seq);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_V3 = """
        -- Manager actions (hub/ledger/staff_actions.py): a member merged into another one.
        ALTER TABLE members ADD COLUMN merged_into INTEGER REFERENCES members(id);
        -- The dashboard's figures (hub/ledger/kpis.py) read these instead of scanning every posting or event.
        CREATE INDEX postings_purchase_at ON postings(at, delta) WHERE account = 'spend_cents' AND rule = 'purchase';
        CREATE INDEX postings_visit_at ON postings(at, member_id) WHERE account = 'visits' AND delta > 0;
        CREATE INDEX events_anonymous_purchase ON events(received_at, json_extract(body, '$.amount_cents'))
            WHERE type = 'purchase' AND member_id IS NULL AND ok = 1;
        CREATE INDEX members_enrolled ON members(enrolled_at, erased_at, merged_into);
        CREATE INDEX vouchers_issued ON vouchers(issued_at, used_at);
"""


def _backfill_search_keys(conn: sqlite3.Connection) -> None:
    from hub.ledger.search import name_key, phone_key

    rows = conn.execute(
        "SELECT id, first_name, phone FROM members WHERE first_name IS NOT NULL OR phone IS NOT NULL"
    )
    conn.executemany(
        "UPDATE members SET name_key = ?, phone_key = ? WHERE id = ?",
        [(name_key(first), phone_key(phone), mid) for mid, first, phone in rows.fetchall()],
    )


#: One SQL script per schema version. Append; never edit a released one.
MIGRATIONS: list[str] = [_V1, _V2, _V3]
#: What SQL cannot do in a migration, run in its transaction after its script (by target version).
MIGRATION_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {2: _backfill_search_keys}
assert len(MIGRATIONS) == SCHEMA_VERSION


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode: transactions are explicit (BEGIN IMMEDIATE … COMMIT)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def open_read_only(path: Path) -> sqlite3.Connection:
    """For `check`: looks, never writes (no migration, no journal-mode change)."""
    path = Path(path)
    if not path.exists():
        raise LedgerOpenError(f"Registre introuvable : {path} / Ledger not found: {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise LedgerOpenError(
            f"Le registre {path} est endommagé ({exc}). {RESTORE_HINT_FR} / "
            f"The ledger {path} is damaged ({exc}). {RESTORE_HINT_EN}"
        ) from exc
    if version != SCHEMA_VERSION:
        conn.close()
        raise LedgerOpenError(
            f"Schéma {version}, cette version de Fidelio connaît {SCHEMA_VERSION} / "
            f"schema {version}; this Fidelio knows {SCHEMA_VERSION}"
        )
    return conn


def open_database(path: Path, create: bool = False) -> sqlite_utils.Database:
    """Open (or with `create`, make) the ledger; check integrity; run pending migrations."""
    path = Path(path)
    if not path.exists() and not create:
        raise LedgerOpenError(
            f"Registre introuvable : {path}. Lancez « fidelio-hub --data DIR init ». / "
            f"Ledger not found: {path}. Run 'fidelio-hub --data DIR init'."
        )
    if create and not path.exists():
        # Personal data: only the hub's user reads it (SQLite gives its -wal/-shm files the same mode).
        path.touch(mode=0o600)
    try:
        conn = connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if path.stat().st_size > 0:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(result)
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a reply is sent only after its commit is on disk, power cut included.
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        raise LedgerOpenError(
            f"Le registre {path} est endommagé ({exc}). {RESTORE_HINT_FR} / "
            f"The ledger {path} is damaged ({exc}). {RESTORE_HINT_EN}"
        ) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise LedgerOpenError(
            f"Le registre {path} a été écrit par une version plus récente de Fidelio (schéma {version}, "
            f"cette version connaît {SCHEMA_VERSION}). Mettez Fidelio à jour, ou {RESTORE_HINT_FR} / "
            f"The ledger {path} was written by a newer Fidelio (schema {version}; this one knows "
            f"{SCHEMA_VERSION}). Upgrade Fidelio, or: {RESTORE_HINT_EN}"
        )
    db = sqlite_utils.Database(conn)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        # executescript commits whatever is pending, so the transaction starts inside the script.
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version = {target};")
            if target in MIGRATION_STEPS:
                MIGRATION_STEPS[target](conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return db


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (connections are in autocommit mode)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
