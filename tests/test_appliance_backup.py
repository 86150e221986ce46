"""`fidelio-hub backup`: online copies of the ledger taken while the hub writes are consistent ledgers
that `fidelio-hub check` passes; only the last N are kept; a corrupt ledger gives no backup."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.backup import backups_in, to_remove
from hub.cli import main as hub_main
from tests.support import HubHarness, StreamingKiosk, wait_until


def _events(ledger: Path) -> int:
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def _check_as_hub(backup: Path, scratch: Path) -> int:
    """Restore `backup` as a hub's ledger the way the guide says (copy it over ledger.sqlite), then check."""
    scratch.mkdir()
    shutil.copy(backup, scratch / "ledger.sqlite")
    return hub_main(["--data", str(scratch), "check"])


def test_backups_taken_while_the_hub_writes_are_consistent_ledgers(capsys):
    harness = HubHarness()
    stop = threading.Event()
    try:
        harness.start_broker()
        harness.start_service()
        enrol = harness.kiosk("enrol-desk")
        cards = ["pcsc:0A0B0C01", "pcsc:0A0B0C02"]
        for card in cards:
            assert enrol.request("enrol", card, {"consents": {"email": False, "sms": False}})["ok"]
        kiosks = [StreamingKiosk(harness, f"k{i}", card, stop) for i, card in enumerate(cards)]
        for kiosk in kiosks:
            kiosk.start()
        assert wait_until(lambda: sum(len(k.answered) for k in kiosks) >= 20, 30)

        taken: list[tuple[int, int]] = []  # (events answered before the backup, events in the copy)
        for _ in range(5):
            before = sum(len(k.answered) for k in kiosks)
            assert hub_main(["--data", str(harness.data), "backup", "--keep", "3"]) == 0
            newest = backups_in(harness.data / "backups")[-1]
            taken.append((before, _events(newest)))
            assert wait_until(lambda b=before: sum(len(k.answered) for k in kiosks) > b + 5, 30)
        stop.set()
        for kiosk in kiosks:
            kiosk.join(30)

        backups = backups_in(harness.data / "backups")
        assert len(backups) == 3  # --keep 3: the two oldest were removed
        for before, events in taken:
            # the copy holds at least every purchase answered before it began (plus the enrolments)
            assert events >= before + len(cards)
        assert len({events for _, events in taken}) == len(taken)  # the hub kept writing in between
        for i, backup in enumerate(backups):
            assert backup.stat().st_mode & 0o777 == 0o600
            assert not Path(f"{backup}-wal").exists()  # self-contained: one file
            assert _check_as_hub(backup, harness.root / f"restored-{i}") == 0
        assert "ledger sound" in capsys.readouterr().out
    finally:
        stop.set()
        harness.close()


def test_a_damaged_ledger_gives_no_backup(tmp_path, capsys):
    harness = HubHarness()
    try:
        ledger = harness.data / "ledger.sqlite"
        conn = sqlite3.connect(ledger)
        # points with no posting behind them: the projection no longer equals the fold of postings
        conn.execute("INSERT INTO members (code, enrolled_at, points) VALUES ('BROKEN', '2026-01-01', 999)")
        conn.commit()
        conn.close()
        out = tmp_path / "backups"
        code = hub_main(["--data", str(harness.data), "backup", "--to", str(out)])
        err = capsys.readouterr().err
        assert code == 1
        assert "n'est pas gardée" in err and "not kept" in err
        assert backups_in(out) == []
        assert list(out.iterdir()) == []  # no partial file left behind either
    finally:
        harness.close()


def test_only_the_newest_are_kept(tmp_path):
    start = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    names = [tmp_path / (start + timedelta(days=d)).strftime("%Y%m%dT%H%M%S%fZ.sqlite") for d in range(5)]
    for name in names:
        name.touch()
    (tmp_path / "notes.txt").touch()
    assert backups_in(tmp_path) == names
    assert to_remove(backups_in(tmp_path), 2) == names[:3]
    assert to_remove(backups_in(tmp_path), 9) == []
