"""The appliance, verified by booting it (issue 7 §5): `image-build/verify.sh` builds a Debian bookworm
arm64 root with the project's own stage scripts under qemu-user-static, boots it twice under
`qemu-system-aarch64 -M virt` (a hub, then a kiosk made from the hub's file) and reads the check lines
from the serial console. About half an hour on a 2-core machine: marked `slow`, and run by the README's
test command like every other test (`-m "not slow"` leaves it out while working on something else).

It needs root (debootstrap, loop-free disk images, chroot, binfmt_misc): as root, or through `sudo -n`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

ARTIFACTS = REPO / "test-artifacts" / "verify"
#: every check verify.sh expects, by boot (its `expect` lists): each must be reported "ok"
HUB_CHECKS = (
    "role hub", "status ok", "boot partition clean", "data partition", "wifi keyfile 0600",
    "fidelio-mosquitto active", "fidelio-hub active", "kiosk answered", "watchdog restarted fidelio-hub",
    "kiosk update endpoint", "update installed", "update hub active", "kiosk answered after update", "update rolled back",
    "update hub active after rollback", "kiosk answered after rollback", "hub ledger sound", "backup timer",
    "update timer", "ssh key login", "ssh keys only", "ssh root refused",
    "ssh maintainer sudo",
)  # fmt: skip
KIOSK_CHECKS = (
    "role kiosk", "status ok", "boot partition clean", "data partition", "kiosk credentials 0600 kiosk",
    "fidelio-kiosk active", "kiosk app running", "kiosk app stays up", "update timer", "ssh off",
)  # fmt: skip


def _as_root() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", "--preserve-env=WORK,PYTHON"]
    pytest.fail(
        "image-build/verify.sh needs root: run the tests as root or with password-less sudo", pytrace=False
    )


@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
def test_the_image_boots_as_a_hub_and_as_a_kiosk_under_qemu(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    work = Path(os.environ.get("FIDELIO_VERIFY_WORK", "/var/tmp/fidelio-verify-tests"))
    env = {**os.environ, "WORK": str(work), "PYTHON": str(REPO / ".venv/bin/python")}
    log = ARTIFACTS / "verify.log"
    with log.open("w") as out:
        done = subprocess.run(
            [*_as_root(), "bash", str(REPO / "image-build/verify.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=4 * 3600,
        )
    text = log.read_text(errors="replace")
    for kept in ("hub-console.log", "kiosk-console.log", "hub-check.log", "kiosk-check.log", "install.log"):
        if (work / kept).exists():
            shutil.copy(work / kept, ARTIFACTS / kept)
    # what went wrong, first (the check unit's FAIL lines and the status it printed after them), then the end
    failures = [
        line
        for line in text.splitlines()
        if " FAIL " in line or "MISSING" in line or "FIDELIO-CHECK   " in line
    ]
    tail = "\n".join([*failures[:40], "...", *text.splitlines()[-40:]])
    hub_part, _, kiosk_part = text.partition("boot 2 (kiosk)")
    # Kivy's arm64 SDL2 has the KMS/DRM back end the kiosk's unit uses on a Pi (checked in the built root)
    assert re.search(r"^verify: \[\d+s\]   ok  kivy sdl2 kmsdrm ", text, re.M), tail
    for check in HUB_CHECKS:
        assert re.search(rf"^verify: \[\d+s\]   ok  {re.escape(check)}$", hub_part, re.M), (check, tail)
    for check in KIOSK_CHECKS:
        assert re.search(rf"^verify: \[\d+s\]   ok  {re.escape(check)}$", kiosk_part, re.M), (check, tail)
    assert "MISSING" not in text, tail
    assert done.returncode == 0, tail
    total = re.search(r"total (\d+)s", text)
    print(f"verify.sh: {total.group(1) if total else '?'} s in all (log: {log})")
