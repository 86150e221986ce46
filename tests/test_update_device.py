"""The device side of updates (issue 7 §4), on real virtual environments built offline from signed
bundles: version check, install beside the running release, atomic switch, health check, automatic
rollback, a power cut in the middle, and bundles that were forged or damaged.

Services are restarted through `tests/update_support.CommandServices` (systemd is not PID 1 here);
the qemu boot (image-build/verify.sh) does the same with the real systemd units."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fidelio.update import bootcheck
from fidelio.update.bundle import open_bundle
from fidelio.update.cli import _one_at_a_time as cli_lock
from fidelio.update.cli import _say as update_exit_code
from fidelio.update.cli import main as update_main
from fidelio.update.errors import UpdateError
from fidelio.update.keys import generate_key, load_private_key, load_trusted_keys
from tests.update_support import (
    BROKEN_IMPORT,
    BROKEN_SERVICE,
    Device,
    Releases,
)


@pytest.fixture(scope="module")
def bundles(releases: Releases) -> dict[str, Path]:
    return {
        "0.1.0": releases.bundle("0.1.0"),
        "0.2.0": releases.bundle("0.2.0"),
        "0.3.0-broken": releases.bundle("0.3.0", BROKEN_SERVICE),
        "0.4.0-noimport": releases.bundle("0.4.0", BROKEN_IMPORT),
    }


@pytest.fixture
def device(tmp_path: Path, releases: Releases, bundles: dict[str, Path]) -> Device:
    d = Device(tmp_path, releases.keys)
    d.factory_install(bundles["0.1.0"])
    return d


def test_a_newer_release_is_installed_beside_and_switched_to(
    device: Device, bundles: dict[str, Path]
) -> None:
    assert device.running() == "0.1.0"
    result = device.apply(bundles["0.2.0"])
    assert result["state"] == "installed" and result["version"] == "0.2.0"
    assert device.running() == "0.2.0"
    assert os.readlink(device.dir.link) == "releases/0.2.0"
    # the one before stays for a rollback; the hub's backup ran before the switch, then the restart
    assert [r.version for r in device.dir.installed()] == ["0.1.0", "0.2.0"]
    assert device.services.calls[:2] == [("oneshot", "backup.service"), ("restart", "app.service")]
    state = json.loads(device.state.path.read_text())
    assert state["previous"] == "0.1.0" and state["pending"] is None and state["last"]["state"] == "installed"
    # the same bundle again: nothing to do
    assert device.apply(bundles["0.2.0"])["state"] == "up_to_date"


def test_a_kiosk_in_use_is_not_restarted_under_its_customer(device: Device, bundles: dict[str, Path]) -> None:
    """The switch waits for the attract screen (the app's STATUS=, `Services.busy`); a kiosk still in use
    after the wait is put off to the next run, the new release kept ready beside (not a failure)."""
    device.services.doing["app.service"] = ["busy: welcome screen", "busy: rewards screen", None]
    assert device.apply(bundles["0.2.0"])["state"] == "installed"
    assert device.clock.slept == [5, 5]  # two polls, then idle: switched
    assert device.running() == "0.2.0"

    device.clock.slept.clear()
    device.services.doing["app.service"] = ["busy: staff screen"]  # in use all along
    result = device.apply(bundles["0.1.0"], allow_downgrade=True)
    assert result["state"] == "deferred" and result["code"] == "device_busy"
    assert "busy: staff screen" in result["fr"] and "next check" in result["en"]
    assert sum(device.clock.slept) == 300  # waited its 5 minutes, no more
    assert device.running() == "0.2.0" and os.readlink(device.dir.link) == "releases/0.2.0"
    state = json.loads(device.state.path.read_text())
    assert state["failed"] == {} and state["pending"] is None and state["last"]["state"] == "deferred"
    assert update_exit_code(result) == 75  # the timer's unit does not fail for it
    restarts = device.services.calls.count(("restart", "app.service"))
    device.services.doing["app.service"] = [None]  # the next run: the kiosk is free
    assert device.apply(bundles["0.1.0"], allow_downgrade=True)["state"] == "installed"
    assert (
        device.running() == "0.1.0"
        and device.services.calls.count(("restart", "app.service")) == restarts + 1
    )


def test_a_release_that_cannot_start_is_rolled_back_and_not_retried(
    device: Device, bundles: dict[str, Path]
) -> None:
    device.apply(bundles["0.2.0"])
    result = device.apply(bundles["0.3.0-broken"])
    assert result["state"] == "rolled_back" and result["version"] == "0.3.0"
    assert "0.2.0" in result["fr"] and "0.2.0" in result["en"]
    assert device.running() == "0.2.0"
    assert "0.3.0" not in [r.version for r in device.dir.installed()]  # the broken one does not stay
    state = json.loads(device.state.path.read_text())
    assert "0.3.0" in state["failed"] and state["failed"]["0.3.0"]["code"] == "service_failed"
    # the next hourly run does not install it again...
    again = device.apply(bundles["0.3.0-broken"])
    assert again["state"] == "refused" and again["code"] == "failed_before"
    # ...unless asked for explicitly (and it fails again, and is rolled back again)
    assert device.apply(bundles["0.3.0-broken"], force=True)["state"] == "rolled_back"
    assert device.running() == "0.2.0"


def test_a_release_that_does_not_import_is_never_switched_to(
    device: Device, bundles: dict[str, Path]
) -> None:
    calls_before = len(device.services.calls)
    result = device.apply(bundles["0.4.0-noimport"])
    assert result["state"] == "failed" and result["code"] == "selftest_failed"
    assert device.running() == "0.1.0" and os.readlink(device.dir.link) == "releases/0.1.0"
    assert not (device.dir.releases / "0.4.0").exists()
    assert len(device.services.calls) == calls_before  # nothing was restarted


def test_an_install_that_fails_is_retried_a_few_times_then_left(device: Device, releases: Releases) -> None:
    """pip cannot install it (a wheel missing): maybe the card, maybe the file; three tries, then no more."""
    incomplete = releases.bundle("0.6.0", without="packaging-")
    for attempt in (1, 2, 3):
        result = device.apply(incomplete)
        assert result["state"] == "failed" and result["code"] == "install_failed", attempt
        assert "pip" in result["en"]
        assert device.state.load().failed["0.6.0"]["attempts"] == attempt
    assert device.apply(incomplete)["code"] == "failed_before"
    assert device.running() == "0.1.0" and not (device.dir.releases / "0.6.0").exists()


def test_no_room_on_the_card_is_said_before_anything_is_unpacked(
    device: Device, bundles: dict[str, Path]
) -> None:
    huge = dataclasses.replace(open_bundle(bundles["0.2.0"], device.keys), size=2**50)
    result = device.updater.apply(huge)
    assert result["state"] == "failed" and result["code"] == "disk"
    assert "Place insuffisante" in result["fr"] and "Not enough room" in result["en"]
    assert not (device.dir.releases / "0.2.0").exists() and device.running() == "0.1.0"
    # not the release's fault: the next run tries again, and with room it installs
    assert device.apply(bundles["0.2.0"])["state"] == "installed"


def test_older_releases_only_when_asked_and_a_manual_rollback(
    device: Device, bundles: dict[str, Path]
) -> None:
    device.apply(bundles["0.2.0"])
    refused = device.apply(bundles["0.1.0"])
    assert refused["state"] == "refused" and refused["code"] == "downgrade"
    assert device.running() == "0.2.0"
    assert device.apply(bundles["0.1.0"], allow_downgrade=True)["state"] == "installed"
    assert device.running() == "0.1.0"
    # and forward again, then `fidelio-update rollback` by hand
    assert device.apply(bundles["0.2.0"])["state"] == "installed"
    result = device.updater.rollback()
    assert result["state"] == "installed" and device.running() == "0.1.0"
    state = json.loads(device.state.path.read_text())
    assert "0.2.0" in state["failed"]  # rolled back by hand: not reinstalled by the timer


def test_a_power_cut_between_switch_and_check_is_finished_at_the_next_run(
    device: Device, bundles: dict[str, Path]
) -> None:
    # what apply() leaves on disk just after the switch, had the power gone then
    bundle = open_bundle(bundles["0.3.0-broken"], device.keys)
    device.dir.install(bundle)
    state = device.state.load()
    state.pending = {"from": "0.1.0", "to": "0.3.0"}
    device.state.save(state)
    device.dir.switch("0.3.0")
    # next boot: the timer's run finds the unconfirmed switch, checks it, and goes back
    result = device.updater.recover(device.state.load())
    assert result is not None and result["state"] == "rolled_back"
    assert device.running() == "0.1.0" and device.state.load().pending is None


def test_at_boot_an_unconfirmed_switch_is_undone_before_the_services_start(
    device: Device, bundles: dict[str, Path]
) -> None:
    """fidelio-update-bootcheck (the system's python3, standard library only: `-I -S`)."""
    device.dir.install(open_bundle(bundles["0.2.0"], device.keys))
    state = device.state.load()
    state.pending = {"from": "0.1.0", "to": "0.2.0"}
    device.state.save(state)
    device.dir.switch("0.2.0")  # the power went here
    script = Path(bootcheck.__file__)
    cmd = [
        sys.executable,
        "-I",
        "-S",
        str(script),
        "--root",
        str(device.dir.root),
        "--state",
        str(device.state.path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "interrompue" in done.stdout and "interrupted" in done.stdout
    assert device.running() == "0.1.0"
    saved = json.loads(device.state.path.read_text())
    assert (
        saved["pending"] is None and saved["interrupted"]["to"] == "0.2.0" and "0.2.0" not in saved["failed"]
    )
    # nothing to do the next time
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == ""
    # the hourly run takes the version again, from the folder it kept, and confirms it
    assert device.apply(bundles["0.2.0"])["state"] == "installed" and device.running() == "0.2.0"


def test_two_updater_runs_never_overlap(device: Device, bundles: dict[str, Path], tmp_path: Path) -> None:
    state = tmp_path / "data" / "update.json"
    with cli_lock(state):
        code = update_main(
            ["--state", str(state), "--root", str(device.dir.root), "rollback", "--role", "kiosk"]
        )
    assert code == 1  # refused at once: "another update is running"


def test_a_wrong_platform_is_refused(device: Device, releases: Releases) -> None:
    other = releases.bundle("0.5.0", platform="linux_riscv64")
    result = device.apply(other)
    assert result["state"] == "refused" and result["code"] == "wrong_platform"
    assert "linux_riscv64" in result["fr"]


def test_forged_and_damaged_bundles_are_refused(
    tmp_path: Path, releases: Releases, bundles: dict[str, Path]
) -> None:
    keys = load_trusted_keys(releases.keys)
    # signed by a key the device does not trust
    generate_key(tmp_path / "other.key")
    stranger = Releases.__new__(Releases)
    stranger.__dict__.update(
        releases.__dict__, base=tmp_path / "s", key=load_private_key(tmp_path / "other.key")
    )
    (tmp_path / "s").mkdir()
    with pytest.raises(UpdateError) as forged:
        open_bundle(stranger.bundle("0.2.0"), keys)
    assert forged.value.code == "untrusted"
    # a wheel changed after signing (same size, one byte)
    tampered = tmp_path / "tampered.fidelio"
    shutil.copy(bundles["0.2.0"], tampered)
    with tarfile.open(bundles["0.2.0"]) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("wheels/fidelio-"))
    with tampered.open("r+b") as fh:
        fh.seek(member.offset_data + 100)
        byte = fh.read(1)
        fh.seek(member.offset_data + 100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(UpdateError) as damaged:
        open_bundle(tampered, keys)
    assert damaged.value.code == "corrupt"
    # cut short (a download that stopped)
    short = tmp_path / "short.fidelio"
    short.write_bytes(bundles["0.2.0"].read_bytes()[:50_000])
    with pytest.raises(UpdateError) as cut:
        open_bundle(short, keys)
    assert cut.value.code == "corrupt"
    # an extra member the manifest does not list (a path outside the unpack folder)
    extra = tmp_path / "extra.fidelio"
    shutil.copy(bundles["0.2.0"], extra)
    evil = tmp_path / "evil.sh"
    evil.write_text("#!/bin/sh\n")
    with tarfile.open(extra, "a") as tar:
        tar.add(evil, arcname="../../etc/cron.d/evil")
    with pytest.raises(UpdateError) as listed:
        open_bundle(extra, keys)
    assert listed.value.code == "corrupt"


def test_a_bundle_carries_the_ledger_schema_its_hub_writes(
    bundles: dict[str, Path], releases: Releases
) -> None:
    from hub.ledger import SCHEMA_VERSION

    assert (
        open_bundle(bundles["0.2.0"], load_trusted_keys(releases.keys)).manifest.ledger_schema
        == SCHEMA_VERSION
    )


def test_the_command_line_makes_and_checks_bundles(
    tmp_path: Path, releases: Releases, bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert update_main(["--keys", str(releases.keys), "verify", str(bundles["0.2.0"])]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["version"] == "0.2.0" and len(summary["sha256"]) == 64
    assert update_main(["keygen", str(tmp_path / "k")]) == 0
    assert capsys.readouterr().out.startswith("ed25519 ")
    (tmp_path / "untrusting").mkdir()
    shutil.copy(tmp_path / "k.pub", tmp_path / "untrusting" / "k.pub")
    assert update_main(["--keys", str(tmp_path / "untrusting"), "verify", str(bundles["0.2.0"])]) == 1
    err = capsys.readouterr().err
    assert "clé de confiance" in err and "trusted key" in err
