"""`fidelio-hub` and `fidelio` as an operator runs them (real processes, real files, real broker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from hub.app import init_hub
from hub.broker.process import BrokerProcess, free_port
from tests.support import REPO, NotifyListener

EXAMPLES = REPO / "examples"
BIN = Path(sys.executable).parent


def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def data_dir():
    root = Path(tempfile.mkdtemp(prefix="fidelio-cli-"))
    root.chmod(0o755)
    yield root / "hub"
    subprocess.run(["rm", "-rf", str(root)], check=False)


def test_init_kiosk_add_list_revoke_and_check(data_dir: Path):
    out = run("fidelio-hub", "--data", str(data_dir), "init", "--shop", "boulangerie-martin",
              "--program", str(EXAMPLES / "bakery.toml"), "--mqtt-host", "hub.local",
              "--mqtt-port", str(free_port()))  # fmt: skip
    assert "boulangerie-martin" in out.stdout
    for name in (
        "config.toml",
        "program.toml",
        "ledger.sqlite",
        "mosquitto/mosquitto.conf",
        "mosquitto/ca.crt",
    ):
        assert (data_dir / name).exists(), name
    assert oct((data_dir / "config.toml").stat().st_mode & 0o777) == "0o600"
    again = run("fidelio-hub", "--data", str(data_dir), "init", "--shop", "x", check=False)
    assert again.returncode == 2 and "already holds a hub" in again.stderr

    prov = data_dir.parent / "comptoir.toml"
    run("fidelio-hub", "--data", str(data_dir), "kiosk", "add", "comptoir", "--out", str(prov))
    data = tomllib.loads(prov.read_text())
    assert data["shop"] == "boulangerie-martin" and data["kiosk"] == "comptoir"
    assert data["mqtt"]["host"] == "hub.local" and data["mqtt"]["tls"] is True
    assert "BEGIN CERTIFICATE" in data["mqtt"]["ca"]
    listing = run("fidelio-hub", "--data", str(data_dir), "kiosk", "list").stdout
    assert "comptoir" in listing and "active" in listing
    run("fidelio-hub", "--data", str(data_dir), "kiosk", "revoke", "comptoir")
    assert "revoked" in run("fidelio-hub", "--data", str(data_dir), "kiosk", "list").stdout
    assert run("fidelio-hub", "--data", str(data_dir), "check").stdout.startswith("ok")


def test_check_reports_a_tampered_projection(data_dir: Path):
    import sqlite3

    run("fidelio-hub", "--data", str(data_dir), "init", "--shop", "s1", "--mqtt-port", str(free_port()))
    conn = sqlite3.connect(data_dir / "ledger.sqlite")
    conn.execute(
        "INSERT INTO members (code, enrolled_at, points) VALUES ('AAAAAAAA', '2026-01-01T00:00:00.000000Z', 42)"
    )
    conn.commit()
    conn.close()
    bad = run("fidelio-hub", "--data", str(data_dir), "check", check=False)
    assert bad.returncode == 1 and "points is 42 in the projection, 0 in the postings" in bad.stderr


def test_program_check_gives_line_numbers(tmp_path: Path):
    assert run("fidelio-hub", "program", "check", str(EXAMPLES / "grocery.toml")).returncode == 0
    broken = tmp_path / "broken.toml"
    broken.write_text('[shop]\nname = "X"\n\n[points]\nper_euro = 1\nrounding = "sideways"\n')
    bad = run("fidelio-hub", "program", "check", str(broken), check=False)
    assert bad.returncode == 1 and ":6:" in bad.stderr and "rounding" in bad.stderr


def test_run_speaks_systemd_notify_stops_cleanly_on_sigterm_and_refuses_a_newer_ledger(data_dir: Path):
    local, tls = free_port(), free_port()
    init_hub(data_dir, "s2", mqtt_host="localhost", mqtt_port=tls, local_port=local, http_port=free_port())
    broker = BrokerProcess(data_dir)
    broker.start()
    notify = NotifyListener(data_dir.parent / "notify.sock")
    try:
        hub = subprocess.Popen([str(BIN / "fidelio-hub"), "--data", str(data_dir), "run"],
                               env={**os.environ, "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "1000000"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        assert notify.wait_for("READY=1") and notify.wait_for("STATUS=connected")
        assert notify.wait_for("WATCHDOG=1", timeout=5), "the writer loop does not feed the watchdog"
        hub.send_signal(signal.SIGTERM)
        out, _ = hub.communicate(timeout=30)
        assert hub.returncode == 0, out
        assert '"msg": "connected to the broker"' in out and '"msg": "hub stopped"' in out
        assert notify.wait_for("STOPPING=1", timeout=5)
    finally:
        notify.close()
        broker.stop()
    import sqlite3

    conn = sqlite3.connect(data_dir / "ledger.sqlite")
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    refused = run("fidelio-hub", "--data", str(data_dir), "run", check=False)
    assert refused.returncode == 2 and "newer Fidelio" in refused.stderr and "restore" in refused.stderr


def test_fidelio_demo_plays_the_whole_journey_headless_without_a_display():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    proc = run("fidelio", "demo", env={**env, "PYTHONUNBUFFERED": "1"})
    out = proc.stdout
    assert "Pas d'écran ici" in out  # it says why there is no window
    assert "[Carte inconnue]" in out and "[Vos choix (facultatifs)]" in out  # enrolment offered, consents
    assert "Bonjour Camille !" in out and "[Achat enregistré]" in out  # welcome, staff purchase
    assert "✗ atelier: Atelier découverte — Réservé au statut Or" in out  # why a reward is out of reach
    assert "🎟 " in out and "voucher-00001.png" in out  # the voucher, printed by the simulated printer
    assert "Hors ligne : les récompenses ne peuvent être choisies qu'avec le hub" in out  # no offline spend
    assert "Dernier solde connu" in out  # the cache while the broker is down
    assert "registre sain" in out and proc.returncode == 0


def test_fidelio_demo_in_english():
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    out = run("fidelio", "demo", "--lang", "en", "--headless", env=env).stdout
    assert "[Unknown card]" in out and "Hello Camille!" in out and "the ledger is sound" in out


def test_run_refuses_a_broker_that_is_not_the_shops(data_dir: Path):
    """Debian's own mosquitto on the hub's loopback port (anonymous access) must not be used."""
    local, tls = free_port(), free_port()
    init_hub(data_dir, "s3", mqtt_host="localhost", mqtt_port=tls, local_port=local)
    foreign_conf = data_dir.parent / "foreign.conf"
    foreign_conf.write_text(f"listener {local} 127.0.0.1\nallow_anonymous true\n")
    foreign = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(foreign_conf)], stderr=subprocess.DEVNULL)
    try:
        from hub.broker.process import port_open
        from tests.support import wait_until

        assert wait_until(lambda: port_open(local), 10)
        refused = run("fidelio-hub", "--data", str(data_dir), "run", check=False)
        assert refused.returncode == 2 and "not the shop's broker" in refused.stderr
    finally:
        foreign.terminate()
        foreign.wait()
