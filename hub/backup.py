"""`fidelio-hub --data DIR backup`: an online copy of the ledger, checked, keeping the last N.

SQLite's backup API (`sqlite3.Connection.backup`) copies the database inside one read transaction, so
the copy is the ledger as of one commit, taken while the hub keeps writing (WAL: readers do not block
the writer). The copy is written beside its final name, checked (`check_ledger`: integrity and
projection == fold of postings), switched to a self-contained rollback journal, fsynced and only then
renamed into place; a copy that fails its check is deleted and reported, never kept as a backup.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.config import HubPaths
from hub.ledger.check import check_ledger

#: Backups are named by their UTC time, so that the names sort in time order.
NAME = re.compile(r"^\d{8}T\d{12}Z\.sqlite$")
DEFAULT_KEEP = 7


class BackupError(RuntimeError):
    """A backup that could not be taken or failed its check; the message is in French and English."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    removed: list[Path]
    events: int


def backup_dir(data: Path) -> Path:
    return HubPaths(data).root / "backups"


def backup_name(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ") + ".sqlite"


def backups_in(directory: Path) -> list[Path]:
    """This directory's backups, oldest first (other files are left alone)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if NAME.match(p.name))


def to_remove(backups: list[Path], keep: int) -> list[Path]:
    """The oldest backups beyond the `keep` newest (`backups` oldest first)."""
    return backups[: max(0, len(backups) - keep)]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_ledger(
    data: Path, *, to: Path | None = None, keep: int = DEFAULT_KEEP, now: datetime | None = None
) -> BackupResult:
    if keep < 1:
        raise BackupError("--keep doit valoir au moins 1 / --keep must be at least 1")
    ledger = HubPaths(data).ledger
    if not ledger.exists():
        raise BackupError(f"Registre introuvable : {ledger} / Ledger not found: {ledger}")
    directory = to if to is not None else backup_dir(data)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = directory / backup_name(now or datetime.now(UTC))
    partial = final.with_name(f".{final.name}.partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # personal data: only the hub's user reads it
    try:
        src = sqlite3.connect(str(ledger), timeout=30)
        try:
            src.execute("PRAGMA busy_timeout = 30000")
            dst = sqlite3.connect(str(partial), isolation_level=None)
            try:
                src.backup(dst)  # pages=-1: the whole database in one step, one read transaction
                dst.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
                faults = check_ledger(dst)
                events = dst.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if faults:
            raise BackupError(
                "La copie du registre ne passe pas la vérification, elle n'est pas gardée / "
                "the ledger copy fails its check and is not kept:\n" + "\n".join(faults[:20])
            )
        _fsync(partial)
        os.replace(partial, final)
        _fsync(directory)
    except sqlite3.Error as exc:
        raise BackupError(f"Sauvegarde impossible / backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    removed = to_remove(backups_in(directory), keep)
    for old in removed:
        old.unlink(missing_ok=True)
    return BackupResult(final, removed, events)
