"""Releases side by side under `/opt/fidelio`: each one a complete virtual environment, `venv` the switch.

    /opt/fidelio/releases/0.1.0/       a venv, with `fidelio-release.json` written last (= complete)
    /opt/fidelio/releases/0.2.0/
    /opt/fidelio/venv -> releases/0.2.0    what every unit runs (`/opt/fidelio/venv/bin/fidelio-hub`)

A virtual environment cannot be moved, so a release is built in its final folder and only counts once
its marker file is there; switching is one `rename(2)` of a symlink, so a power cut leaves either the old
release or the new one in place, never half of each. At most `keep` releases stay on the card: the
current one, the one before it (for a rollback) and, while installing, the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from fidelio.update.bootcheck import fsync_dir
from fidelio.update.bundle import VerifiedBundle, extract_wheels
from fidelio.update.errors import UpdateError

MARKER = "fidelio-release.json"
#: free space an install needs, in bundle sizes (wheels unpacked, plus their .pyc)
ROOM_FACTOR = 4
DEFAULT_ROOT = Path("/opt/fidelio")


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    bundle_sha256: str | None
    ledger_schema: int | None = None

    @property
    def parsed(self) -> Version:
        return Version(self.version)


def base_python() -> str:
    """The interpreter new releases are built with: the one under the running venv (Debian's python3)."""
    candidate = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(candidate) if candidate.exists() else sys.executable


class ReleaseDir:
    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = root
        self.releases = root / "releases"
        self.link = root / "venv"

    def release(self, version: str) -> Release | None:
        path = self.releases / version
        try:
            data = json.loads((path / MARKER).read_text(encoding="utf-8"))
            Version(data["version"])
        except (OSError, ValueError, KeyError, InvalidVersion):
            return None
        return Release(data["version"], path, data.get("bundle_sha256"), data.get("ledger_schema"))

    def installed(self) -> list[Release]:
        found = []
        if self.releases.is_dir():
            for path in self.releases.iterdir():
                release = self.release(path.name)
                if release is not None:
                    found.append(release)
        return sorted(found, key=lambda r: r.parsed)

    def current(self) -> Release:
        if not self.link.is_symlink():
            raise UpdateError(
                "no_release",
                f"{self.link} n'est pas un lien vers une version installée : installation d'usine incomplète",
                f"{self.link} is not a link to an installed release: the factory install is incomplete",
            )
        release = self.release(Path(os.readlink(self.link)).name)
        if release is None:
            raise UpdateError(
                "no_release",
                f"{self.link} pointe vers une version incomplète",
                f"{self.link} points to an incomplete release",
            )
        return release

    def switch(self, version: str) -> Release:
        """Make `version` the one every unit runs (atomic; durable once this returns)."""
        release = self.release(version)
        if release is None:
            raise UpdateError(
                "no_release", f"Version {version} non installée", f"Release {version} is not installed"
            )
        if self.link.exists() and not self.link.is_symlink():
            raise UpdateError(
                "layout",
                f"{self.link} est un dossier, pas un lien : cette carte date d'avant les mises à jour",
                f"{self.link} is a folder, not a link: this card predates updates",
            )
        tmp = self.root / ".venv.switch"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / version)
        tmp.replace(self.link)
        fsync_dir(self.root)
        return release

    def mark(self, version: str, bundle_sha256: str | None, ledger_schema: int | None = None) -> Release:
        """Write the marker that makes a release complete: only once every file pip wrote is on the card
        (ext4 writes file data late; a power cut must not leave a "complete" release of empty files)."""
        os.sync()
        path = self.releases / version
        data = {
            "version": version,
            "bundle_sha256": bundle_sha256,
            "ledger_schema": ledger_schema,
            "installed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        tmp = path / (MARKER + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path / MARKER)
        fsync_dir(path)
        return Release(version, path, bundle_sha256, ledger_schema)

    def install(self, bundle: VerifiedBundle, *, python: str | None = None, timeout: float = 3600) -> Release:
        """Build the bundle's release in its own venv, offline; check it imports. Reused if already there."""
        version = bundle.manifest.version
        existing = self.release(version)
        if existing is not None and existing.bundle_sha256 == bundle.sha256:
            return existing
        if existing is not None and self.link.is_symlink() and self.current().version == version:
            raise UpdateError(
                "running",
                f"La version {version} tourne déjà (installée depuis un autre fichier)",
                f"Release {version} is already running (installed from another file)",
            )
        target = self.releases / version
        self.releases.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)  # an earlier attempt that did not finish
        for leftover in self.root.glob(".wheels-*"):  # unpacked by an attempt a power cut stopped
            shutil.rmtree(leftover, ignore_errors=True)
        self._check_room(bundle.size)
        try:
            with tempfile.TemporaryDirectory(dir=self.root, prefix=".wheels-") as tmp:
                extract_wheels(bundle, Path(tmp))
                _run([python or base_python(), "-m", "venv", str(target)], "venv", timeout)
                _run(
                    [
                        str(target / "bin" / "python"),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--no-index",
                        "--no-cache-dir",
                        "--disable-pip-version-check",
                        "--find-links",
                        tmp,
                        f"{bundle.manifest.requirement}=={version}",
                    ],
                    "pip",
                    timeout,
                )
            selftest(target, version, modules_for(bundle.manifest.requirement), timeout=300)
        except OSError as exc:  # the card full or failing while unpacking
            shutil.rmtree(target, ignore_errors=True)
            raise UpdateError(
                "disk",
                f"Installation impossible : {exc.strerror or exc}",
                f"Install failed: {exc.strerror or exc}",
            ) from exc
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return self.mark(version, bundle.sha256, bundle.manifest.ledger_schema)

    def _check_room(self, bundle_size: int) -> None:
        """A release takes about three times its bundle once unpacked and compiled: say so before starting."""
        free = shutil.disk_usage(self.root).free
        needed = ROOM_FACTOR * bundle_size
        if free < needed:
            raise UpdateError(
                "disk",
                f"Place insuffisante sur la carte : {free // 2**20} Mo libres, {needed // 2**20} Mo nécessaires",
                f"Not enough room on the card: {free // 2**20} MB free, {needed // 2**20} MB needed",
            )

    def prune(self, keep: set[str]) -> list[str]:
        """Remove every release folder not in `keep` (complete or not); returns the removed names."""
        removed = []
        if self.releases.is_dir():
            for path in sorted(self.releases.iterdir()):
                if path.name not in keep and path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
        return removed


#: What each extra of the requirement must be able to import once installed.
_MODULES = {"hub": ["hub.app", "hub.cli"], "kiosk": ["kiosk.app", "kiosk.cli"]}


def modules_for(requirement: str) -> list[str]:
    extras = sorted(Requirement(requirement).extras)
    return ["fidelio.update.cli", *(m for extra in extras for m in _MODULES.get(extra, []))]


def _run(cmd: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpdateError(
            "install_failed", f"Installation impossible ({what} : {exc})", f"Install failed ({what}: {exc})"
        ) from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        detail = " | ".join(tail)[-400:]
        raise UpdateError(
            "install_failed",
            f"Installation impossible ({what} : {detail})",
            f"Install failed ({what}: {detail})",
        )


def selftest(venv: Path, version: str, modules: list[str], *, timeout: float = 300) -> None:
    """The new release's own check (`fidelio-update selftest`): it imports its modules and says its version."""
    cmd = [str(venv / "bin" / "fidelio-update"), "selftest", *(f"--import={m}" for m in modules)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _selftest_failed(version, str(exc)) from exc
    said = None
    if done.returncode == 0:
        try:
            said = json.loads(done.stdout).get("version")
        except (ValueError, AttributeError):
            said = None
    if said != version:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        raise _selftest_failed(version, tail[0] if tail else f"exit {done.returncode}")


def _selftest_failed(version: str, detail: str) -> UpdateError:
    return UpdateError(
        "selftest_failed",
        f"La nouvelle version {version} ne démarre pas ({detail})",
        f"The new release {version} does not start ({detail})",
    )
