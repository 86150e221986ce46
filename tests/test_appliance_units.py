"""systemd/: every unit passes `systemd-analyze verify` with no output at all, in a temporary root that
holds the system's own units, ours, and an executable at each path our Exec*= lines name (what the image
installs there is tested elsewhere); the exposure scores of `systemd-analyze security --offline` are
the ones systemd/README.md records (the hub's at most 4.0); the hardening each unit claims is there;
and the hub and its broker really run under MemoryDenyWriteExecute (the kernel's PR_SET_MDWE)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hub.broker import mosquitto_command
from tests.support import REPO, HubHarness, NotifyListener, wait_until

UNITS = REPO / "systemd"
UNIT_FILES = sorted(p for p in UNITS.iterdir() if p.suffix in (".service", ".timer"))
SERVICES = [p.name for p in UNIT_FILES if p.suffix == ".service"]
#: the image's own unit (first boot of a fresh card: the /data partition)
IMAGE_UNITS = [REPO / "image-build/stage-fidelio/00-fidelio/files/fidelio-data-partition.service"]
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"

if not Path(ANALYZE).exists():
    pytest.fail("systemd-analyze is missing: run `bash scripts/setup.sh` (Debian's systemd)", pytrace=False)


def exec_paths(text: str) -> set[str]:
    """The programs a unit's Exec*= lines run (prefixes such as '-' or '+' removed)."""
    paths = set()
    for match in re.finditer(r"^Exec\w+=[-+!@:]*(\S+)", text, re.M):
        paths.add(match.group(1))
    return paths


def make_root(tmp: Path, units: list[Path]) -> Path:
    root = tmp / "root"
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    target = root / "etc/systemd/system"
    target.mkdir(parents=True)
    for unit in units:
        shutil.copy(unit, target / unit.name)
        for program in exec_paths(unit.read_text()):
            stub = root / program.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            if not stub.exists():
                stub.write_text("#!/bin/sh\n")
                stub.chmod(0o755)
    return root


def verify(root: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ANALYZE, "verify", f"--root={root}", "--man=no", *names],
        cwd=root / "etc/systemd/system",
        capture_output=True,
        text=True,
        timeout=120,
    )


def exposure(root: Path, name: str) -> float:
    out = subprocess.run(
        [ANALYZE, "security", "--offline=yes", f"--root={root}", name],
        cwd=root / "etc/systemd/system",
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", out)
    assert match, out
    return float(match.group(1))


def directives(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_every_unit_verifies_with_no_output_at_all(tmp_path):
    assert {"fidelio-hub.service", "fidelio-mosquitto.service", "fidelio-kiosk.service"} <= set(SERVICES)
    assert {"fidelio-firstboot.service", "fidelio-backup.service"} <= set(SERVICES)
    root = make_root(tmp_path, UNIT_FILES + IMAGE_UNITS)
    result = verify(root, [p.name for p in UNIT_FILES + IMAGE_UNITS])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_verify_in_that_root_does_catch_a_mistake(tmp_path):
    """The check above could fail: a misspelt directive and a program that is not there are reported."""
    broken = tmp_path / "fidelio-hub.service"
    text = (UNITS / "fidelio-hub.service").read_text().replace("WatchdogSec=", "WatchdogSecs=")
    broken.write_text(text)
    root = make_root(tmp_path, [broken, UNITS / "fidelio-mosquitto.service"])
    result = verify(root, ["fidelio-hub.service"])
    assert "WatchdogSecs" in result.stderr
    (root / "usr/sbin/mosquitto").unlink()
    result = verify(root, ["fidelio-mosquitto.service"])
    assert result.returncode != 0 and "mosquitto" in result.stderr


def test_exposure_scores_are_the_recorded_ones(tmp_path):
    root = make_root(tmp_path, UNIT_FILES)
    readme = (UNITS / "README.md").read_text()
    scores = {name: exposure(root, name) for name in SERVICES}
    assert scores["fidelio-hub.service"] <= 4.0
    for name, score in scores.items():
        assert re.search(rf"`{re.escape(name)}`\s*\|\s*{score}\b", readme), (name, score)


def test_the_hardening_each_unit_claims():
    common = {
        "ProtectSystem": ["strict"],
        "PrivateTmp": ["yes"],
        "ProtectHome": ["yes"],
        "ProtectKernelModules": ["yes"],
        "ProtectKernelLogs": ["yes"],
        "SystemCallFilter": ["@system-service"],
    }
    for name in SERVICES:
        found = directives(name)
        for key, value in common.items():
            assert found.get(key, [])[:1] == value, (name, key)
        if name == "fidelio-update.service":  # root: replaces /opt/fidelio, restarts units
            assert found["CapabilityBoundingSet"] == ["CAP_DAC_READ_SEARCH"], name
            assert found["NoNewPrivileges"] == ["yes"] and found["ReadWritePaths"] == [
                "/opt/fidelio /data/fidelio"
            ]
        elif name == "fidelio-update-bootcheck.service":  # root: may switch /opt/fidelio/venv back
            assert found["CapabilityBoundingSet"] == [""] and found["PrivateNetwork"] == ["yes"], name
        elif name != "fidelio-firstboot.service":  # root: hostname, keyfile, chown
            assert found["CapabilityBoundingSet"] == [""], name
            assert found["NoNewPrivileges"] == ["yes"], name
            assert found["ProtectKernelTunables"] == ["yes"], name
            assert "User" in found, name
    for name in (
        "fidelio-hub.service",
        "fidelio-mosquitto.service",
        "fidelio-backup.service",
        "fidelio-update.service",
    ):
        assert directives(name)["MemoryDenyWriteExecute"] == ["yes"]
    assert "MemoryDenyWriteExecute" not in directives("fidelio-kiosk.service")


def test_the_services_run_as_the_users_with_the_watchdog():
    hub = directives("fidelio-hub.service")
    assert (hub["Type"], hub["User"], hub["Restart"]) == (["notify"], ["fidelio"], ["on-failure"])
    assert "fidelio-mosquitto.service" in hub["After"][0] and hub["WatchdogSec"]
    assert hub["ReadWritePaths"] == ["/data/hub"]
    broker = directives("fidelio-mosquitto.service")
    assert broker["ExecStart"] == ["/usr/sbin/mosquitto -c /data/hub/mosquitto/mosquitto.conf"]
    kiosk = directives("fidelio-kiosk.service")
    assert (kiosk["Type"], kiosk["User"], kiosk["Restart"]) == (["notify"], ["kiosk"], ["always"])
    assert kiosk["WatchdogSec"]
    assert "SDL_VIDEODRIVER=kmsdrm" in " ".join(kiosk["Environment"])
    groups_conf = REPO / "kiosk/hardware/system/groups.conf"
    groups = [line for line in groups_conf.read_text().splitlines() if line and not line.startswith("#")]
    assert kiosk["SupplementaryGroups"][0].split() == groups
    first = directives("fidelio-firstboot.service")
    assert first["Type"] == ["oneshot"]
    assert "|/boot/firmware/fidelio-kiosk.toml" in first["ConditionPathExists"]
    assert "|/boot/firmware/fidelio-hub.toml" in first["ConditionPathExists"]
    before = first["Before"][0].split()
    assert {"fidelio-hub.service", "fidelio-kiosk.service", "NetworkManager.service"} <= set(before)
    timer = directives("fidelio-backup.timer")
    assert timer["Persistent"] == ["yes"] and timer["OnCalendar"]
    journal = (UNITS / "journald.conf.d/fidelio.conf").read_text()
    assert "Storage=persistent" in journal


#: Exec a program with the kernel's memory-deny-write-execute (inherited by its children): what
#: MemoryDenyWriteExecute=yes enforces with seccomp, here without systemd as PID 1.
MDWE = (
    "import ctypes, os, sys\n"
    "if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:\n"  # PR_SET_MDWE, REFUSE_EXEC_GAIN
    "    sys.exit('PR_SET_MDWE: ' + os.strerror(ctypes.get_errno()))\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def _mdwe(argv: list[str], **kw) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", MDWE, *argv], **kw)


def test_mdwe_wrapper_refuses_writable_executable_memory():
    probe = "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"
    proc = _mdwe([sys.executable, "-c", probe], stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and b"PermissionError" in err


def test_hub_and_broker_serve_under_memory_deny_write_execute():
    harness = HubHarness()
    notify = NotifyListener(harness.root / "notify.sock")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        log = open(harness.root / "processes.log", "ab")  # noqa: SIM115
        procs.append(_mdwe(mosquitto_command(harness.data), stdout=log, stderr=subprocess.STDOUT))

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", harness.local_port)) == 0

        assert wait_until(listening, 15), (harness.root / "processes.log").read_text()
        env = {**os.environ, "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000"}
        web_port = harness.http_port
        procs.append(
            _mdwe([sys.executable, "-m", "hub.cli", "--data", str(harness.data), "run"],
                  stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        )  # fmt: skip
        assert notify.wait_for("READY=1", 60), (harness.root / "processes.log").read_text()
        assert notify.wait_for("WATCHDOG=1", 10)
        kiosk = harness.kiosk("k1")
        reply = kiosk.request("enrol", "pcsc:04A1B2C3", {"consents": {"email": False, "sms": False}})
        assert reply["ok"], reply

        def web_up() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", web_port)) == 0

        assert wait_until(web_up, 30)  # the staff web (uvicorn, TLS) runs in the same process
        assert all(p.poll() is None for p in procs), (harness.root / "processes.log").read_text()
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)
        notify.close()
        harness.close()
