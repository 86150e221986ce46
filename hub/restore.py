"""Restoring a backup of the ledger into a running hub, and the nightly backup's last result.

A candidate file (a backup of the list, or an uploaded one) is checked first on its own read-only
connection: a SQLite database, this hub's schema version, `PRAGMA integrity_check` and the ledger's own
`check` (projection == fold of postings). Only then does the swap run, as a job on the hub's single
writer (nothing else writes meanwhile): the live ledger is first copied aside (DIR/backups/replaced/),
then SQLite's backup API copies the candidate into the live database through the writer's own
connection (one transaction: readers see the old ledger or the new one, never half of each). The staff
tables (accounts, sessions, API keys, the audit log) are not part of the loyalty ledger: they
are carried over from the replaced file, so a restore neither logs everyone out nor rewinds the audit log
(append-only: the restored file's log is a prefix of the live one; the lines after it are added back).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.backup import backup_dir, backup_name
from hub.ledger.check import check_ledger
from hub.ledger.schema import SCHEMA_VERSION, transaction

#: Not the loyalty ledger: kept from the live file across a restore (children after their parents).
STAFF_TABLES = ("staff_users", "staff_sessions", "api_keys", "audit_log")
LAST_RUN = "backup-last-run.json"


class RestoreRefused(RuntimeError):
    """The candidate is not a sound ledger of this hub; `fr` and `en` say why."""

    def __init__(self, fr: str, en: str, faults: list[str] | None = None) -> None:
        super().__init__(f"{fr} / {en}")
        self.fr, self.en, self.faults = fr, en, faults or []


def check_candidate(path: Path, page_size: int | None = None) -> int:
    """Raise RestoreRefused unless `path` is a sound ledger of this schema (and of the live ledger's
    `page_size`: SQLite cannot copy another page size into a WAL database); returns its event count."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RestoreRefused("Fichier illisible.", "Unreadable file.", [str(exc)]) from exc
    try:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise RestoreRefused(
                "Ce fichier n'est pas une base SQLite (ou elle est corrompue).",
                "This file is not a SQLite database (or it is corrupt).",
                [str(exc)],
            ) from exc
        if "postings" not in tables or "members" not in tables:
            raise RestoreRefused("Ce n'est pas un registre Fidelio.", "This is not a Fidelio ledger.")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        if page_size is not None and size != page_size:
            raise RestoreRefused(
                f"Taille de page {size}, le registre en service utilise {page_size}.",
                f"Page size {size}, the live ledger uses {page_size}.",
            )
        if version != SCHEMA_VERSION:
            raise RestoreRefused(
                f"Version de schéma {version}, ce hub attend {SCHEMA_VERSION}.",
                f"Schema version {version}, this hub needs {SCHEMA_VERSION}.",
            )
        try:
            faults = check_ledger(conn)
        except sqlite3.DatabaseError as exc:
            faults = [f"integrity: {exc}"]
        if faults:
            raise RestoreRefused(
                "Le fichier ne passe pas la vérification (intégrité, soldes = somme des écritures).",
                "The file fails its check (integrity, balances = sum of postings).",
                faults[:20],
            )
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@dataclass(frozen=True)
class Restored:
    aside: Path  # the replaced ledger, kept
    events: int  # events in the restored ledger


def replaced_dir(data: Path) -> Path:
    return backup_dir(data) / "replaced"


def restore_on_writer(ledger: Any, candidate: Path, data: Path, now: datetime) -> Restored:
    """Swap the live ledger for `candidate` (already checked). Runs on the writer thread (`ledger.conn`
    is the writer's connection, outside any transaction)."""
    conn: sqlite3.Connection = ledger.conn
    aside_dir = replaced_dir(data)
    aside_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    aside = aside_dir / backup_name(now)
    dst = sqlite3.connect(str(aside))
    try:
        conn.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
    os.chmod(aside, 0o600)
    src = sqlite3.connect(f"file:{candidate}?mode=ro", uri=True)
    try:
        src.backup(conn)  # one write transaction on the live database; WAL mode is kept
    finally:
        src.close()
    conn.execute("ATTACH DATABASE ? AS replaced", (f"file:{aside}?mode=ro",))
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM replaced.sqlite_master WHERE type = 'table'")}
        with transaction(conn):
            for table in reversed(STAFF_TABLES):
                if table in present and table != "audit_log":
                    conn.execute(f"DELETE FROM main.{table}")
            for table in STAFF_TABLES:
                if table not in present:
                    continue
                cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA replaced.table_info({table})"))
                where = ""
                if table == "audit_log":  # append-only: the restored one is a prefix; add what came after
                    where = " WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM main.audit_log)"
                conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM replaced.{table}{where}")
    finally:
        conn.execute("DETACH DATABASE replaced")
    # The program in force stays the hub's: stored again if the restored ledger did not have it.
    ledger.program_version = ledger._install_program(ledger.program)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    events = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    return Restored(aside, events)


def last_run_file(data: Path) -> Path:
    """Beside the data, not in the backups' directory (`backup --to` may name any directory)."""
    return backup_dir(data).parent / LAST_RUN


def write_last_run(data: Path, result: dict[str, Any]) -> None:
    """What `fidelio-hub backup` (the nightly timer) last did, for the backups page."""
    target = last_run_file(data)
    partial = target.with_name(f".{LAST_RUN}.partial")
    try:
        partial.write_text(json.dumps({"at": datetime.now(UTC).isoformat(), **result}), encoding="utf-8")
        os.replace(partial, target)
    except OSError:  # no data directory (the backup itself failed for it): nothing to show
        pass


def read_last_run(data: Path) -> dict[str, Any] | None:
    try:
        return json.loads(last_run_file(data).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
