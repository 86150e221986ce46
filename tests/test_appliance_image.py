"""image-build/: pi-gen pinned to a tag, the stage's scripts shellcheck-clean, no test-only package in
the image, the templates given to installers accepted by first boot's own parsers, and the payload the
stage puts into the image (the project's wheel with the appliance code, units, system files, examples
and the guide) made for real into a temporary root. The boot of the image is image-build/verify.sh."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from fidelio.appliance.hubfile import parse_hub_file
from fidelio.appliance.wifi import parse_wifi
from fidelio.update.keys import generate_key
from tests.support import REPO

IMAGE = REPO / "image-build"
STAGE = IMAGE / "stage-fidelio"
FILES = STAGE / "00-fidelio/files"
SCRIPTS = [
    IMAGE / "build.sh",
    IMAGE / "verify.sh",
    IMAGE / "verify-check.sh",
    STAGE / "prerun.sh",
    STAGE / "00-fidelio/01-run.sh",
    FILES / "stage-payload.sh",
    FILES / "install.sh",
    FILES / "fidelio-data-partition",
]
TEST_ONLY = {"vsmartcard-vpcd", "xvfb", "chromium", "pcsc-tools", "python3-pytest"}


def test_pi_gen_is_pinned_to_a_release_tag():
    lock = dict(
        line.split("=", 1) for line in (IMAGE / "pi-gen.lock").read_text().splitlines() if "=" in line
    )
    assert lock["PI_GEN_REPO"].endswith("/pi-gen.git")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-raspios-bookworm-arm64", lock["PI_GEN_REF"])
    build = (IMAGE / "build.sh").read_text()
    assert 'checkout --quiet --force --detach "refs/tags/$PI_GEN_REF"' in build
    assert "ENABLE_SSH=0" in build and "stage-fidelio" in build


def test_the_stage_scripts_are_shellcheck_clean():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is missing: run `bash scripts/setup.sh`", pytrace=False)
    for script in SCRIPTS:
        assert os.access(script, os.X_OK), script
    result = subprocess.run([shellcheck, "-x", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_no_pipeline_ends_in_grep_q_under_pipefail():
    """`cmd | grep -q X` under `set -o pipefail` fails when grep leaves at its first match before cmd has
    written everything (cmd dies of SIGPIPE): a present line then reads as absent. It once made verify.sh
    report a check MISSING that the VM had passed."""
    for script in [*SCRIPTS, REPO / "scripts/setup.sh", REPO / "scripts/test.sh", REPO / ".ci/run"]:
        text = script.read_text()
        if "pipefail" not in text:
            continue
        joined = re.sub(r"\|\s*\\?\n\s*", "| ", text)  # a pipe continued on the next line
        for line in joined.splitlines():
            if line.lstrip().startswith("#") or "bash -c" in line:  # bash -c: a new shell, no pipefail
                continue
            assert not re.search(r"\|\s*grep\s+-[a-zA-Z]*q", line), f"{script.name}: {line.strip()}"


def test_no_test_only_package_goes_into_the_image():
    packages = {p for p in (STAGE / "00-fidelio/00-packages").read_text().split() if not p.startswith("#")}
    assert {"pcscd", "mosquitto", "network-manager", "python3-venv"} <= packages
    assert not packages & TEST_ONLY
    install = (FILES / "install.sh").read_text()
    assert '"${wheel}[hub,kiosk]"' in install and "dev]" not in install
    assert '"fidelio[hub,kiosk]==$version"' in install and "--no-index" in install
    assert "vsmartcard-vpcd" in install  # refused if anything pulled it in
    assert "systemctl mask mosquitto.service" in install


def test_the_templates_for_installers_are_accepted_by_first_boot():
    hub = parse_hub_file((FILES / "templates/fidelio-hub.toml").read_text())
    assert hub.shop == "ma-boutique" and hub.kiosks == ("comptoir",) and hub.admin is not None
    wifi = parse_wifi((FILES / "templates/wifi.toml").read_text())
    assert wifi.country == "FR"


def test_no_image_without_a_release_key(tmp_path):
    """An image that trusts no release key could never be updated: the stage refuses to make one."""
    (tmp_path / "keys").mkdir()
    result = subprocess.run(
        [str(FILES / "stage-payload.sh"), str(tmp_path / "rootfs")],
        env={**os.environ, "PYTHON": sys.executable, "FIDELIO_RELEASE_KEYS": str(tmp_path / "keys")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "release-keys/README.md" in result.stderr
    assert not (tmp_path / "rootfs/opt/fidelio/image/wheels").exists()


def test_the_payload_is_made_into_a_root(tmp_path):
    root = tmp_path / "rootfs"
    (tmp_path / "keys").mkdir()
    generate_key(tmp_path / "keys" / "release")
    result = subprocess.run(
        [str(FILES / "stage-payload.sh"), str(root)],
        env={**os.environ, "PYTHON": sys.executable, "FIDELIO_RELEASE_KEYS": str(tmp_path / "keys")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    image = root / "opt/fidelio/image"
    # the trusted key, and never the private one
    assert sorted(p.name for p in (image / "release-keys").iterdir()) == ["release.pub"]
    (wheel,) = (image / "wheels").glob("fidelio-*-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("fidelio/appliance/firstboot.py", "fidelio/appliance/screen.py", "fidelio/sdnotify.py",
                   "kiosk/watchdog.py", "hub/backup.py", "hub/program/demo.toml"):  # fmt: skip
        assert module in names, module
    # every data file the packages read at run time (the staff web's pages, the kiosk's translations)
    for package in ("hub", "kiosk", "fidelio"):
        for path in (REPO / package).rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                assert path.relative_to(REPO).as_posix() in names, path
    assert not any(name.startswith("tests/") for name in names)
    units = {p.name for p in (image / "systemd").iterdir()}
    assert units >= {p.name for p in (REPO / "systemd").glob("*.service")} | {"journald-fidelio.conf"}
    assert {p.name for p in (image / "system").iterdir()} == {
        p.name for p in (REPO / "kiosk/hardware/system").iterdir()
    }
    assert os.access(image / "install.sh", os.X_OK) and os.access(image / "fidelio-data-partition", os.X_OK)
    assert sorted(p.name for p in (root / "opt/fidelio/examples").iterdir()) == sorted(
        p.name for p in (REPO / "examples").glob("*.toml")
    )
    assert (root / "opt/fidelio/docs/install.md").read_text() == (REPO / "docs/install.md").read_text()
