"""Release bundles for the update tests: the project's real wheel, rewritten to other versions (and to
broken ones), plus its base dependencies from the package index, signed with a key made for the test."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from fidelio.update.apply import RoleUnits, Updater
from fidelio.update.bundle import build_bundle, open_bundle
from fidelio.update.errors import UpdateError
from fidelio.update.keys import generate_key, load_private_key, load_trusted_keys
from fidelio.update.releases import ReleaseDir
from fidelio.update.state import StateFile

REPO = Path(__file__).resolve().parent.parent
#: what the device-side tests install: the project without the hub's and kiosk's extras (fast, small)
BASE_REQUIREMENT = "fidelio"


def build_project_wheel(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(REPO)],
        check=True,
        timeout=600,
    )
    (wheel,) = out.glob("fidelio-*.whl")
    return wheel


def download_base_dependencies(out: Path) -> None:
    pins = [
        f"{name}=={importlib.metadata.version(name)}" for name in ("paho-mqtt", "cryptography", "packaging")
    ]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--dest",
            str(out),
            *pins,
        ],
        check=True,
        timeout=600,
    )


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def wheel_variant(
    wheel: Path,
    version: str,
    out_dir: Path,
    replace: Mapping[str, str] | None = None,
    append: Mapping[str, str] | None = None,
) -> Path:
    """The same wheel as version `version`, with some files' text replaced or added to (a broken release)."""
    old_version = wheel.name.split("-")[1]
    old_info, new_info = f"fidelio-{old_version}.dist-info/", f"fidelio-{version}.dist-info/"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / wheel.name.replace(f"-{old_version}-", f"-{version}-")
    records = []
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name = info.filename.replace(old_info, new_info)
            if name == f"{new_info}RECORD":
                continue
            data = src.read(info)
            if name == f"{new_info}METADATA":
                data = data.replace(
                    f"\nVersion: {old_version}\n".encode(), f"\nVersion: {version}\n".encode()
                )
            if name == "fidelio/__init__.py":
                data = data.replace(f'"{old_version}"'.encode(), f'"{version}"'.encode())
            if replace and name in replace:
                data = replace[name].encode()
            if append and name in append:
                data += append[name].encode()
            dst.writestr(name, data)
            records.append(_record_line(name, data))
        records.append(f"{new_info}RECORD,,")
        dst.writestr(f"{new_info}RECORD", "\n".join(records) + "\n")
    return out


class Releases:
    """A signing key, a trusted-keys folder, and bundles made on demand from the project's wheel."""

    def __init__(self, base: Path, wheel: Path, deps: Path) -> None:
        self.base = base
        self.wheel = wheel
        self.deps = deps
        self.keys = base / "trusted"
        self.keys.mkdir(parents=True)
        self.key_path = base / "release.key"
        generate_key(self.key_path)
        shutil.copy(self.key_path.with_name("release.key.pub"), self.keys / "release.pub")
        self.key = load_private_key(self.key_path)

    def bundle(
        self,
        version: str,
        replace: Mapping[str, str] | None = None,
        *,
        requirement: str = BASE_REQUIREMENT,
        platform: str | None = None,
        without: str | None = None,
    ) -> Path:
        """A signed bundle of the project at `version`; `without`: leave out the dependency wheels whose
        name starts so (a bundle pip cannot install)."""
        house = self.base / f"house-{version}"
        shutil.rmtree(house, ignore_errors=True)
        ignore = shutil.ignore_patterns(f"{without}*") if without else None
        shutil.copytree(self.deps, house, ignore=ignore)
        wheel_variant(self.wheel, version, house, replace)
        return build_bundle(
            house, self.base / "bundles", self.key, requirement=requirement, platform=platform
        )


#: a release that installs and imports but whose hub cannot start: what a rollback is for
HUB_CANNOT_START = {
    "hub/cli.py": "\n\ndef main(argv=None):  # verification: a release whose hub cannot start\n"
    '    raise SystemExit("this release cannot start the hub")\n'
}


def verification_bundles(wheelhouse: Path, key: Path, out: Path, platform: str, python: str) -> list[str]:
    """For image-build/verify.sh: from the image's own wheelhouse, a good update and a broken one
    (`label version file` lines), signed with the run's throwaway key."""
    (wheel,) = wheelhouse.glob("fidelio-*.whl")
    factory = wheel.name.split("-")[1]
    lines = []
    for label, version, append in (
        ("good", f"{factory}.post1", None),
        ("broken", f"{factory}.post2", HUB_CANNOT_START),
    ):
        house = out / f"house-{label}"
        shutil.copytree(wheelhouse, house, ignore=shutil.ignore_patterns("fidelio-*.whl"))
        wheel_variant(wheel, version, house, append=append)
        bundle = build_bundle(house, out, load_private_key(key), platform=platform, python=python)
        shutil.rmtree(house)
        lines.append(f"{label} {version} {bundle.name}")
    return lines


#: a release whose service exits at once (it installs and imports: only the health check can tell)
BROKEN_SERVICE = {"fidelio/cli.py": 'raise SystemExit("broken release: the service cannot start")\n'}
#: a release that does not even import: its self-test fails before anything is switched
BROKEN_IMPORT = {"fidelio/update/__init__.py": 'raise ImportError("broken release")\n'}


def make_releases(base: Path) -> Releases:
    """The project's wheel built from this checkout, its base dependencies, a key: for module fixtures."""
    wheel = build_project_wheel(base / "wheel")
    download_base_dependencies(base / "deps")
    return Releases(base / "signed", wheel, base / "deps")


class CommandServices:
    """The `Services` contract without systemd (not PID 1 on the test machines): a unit is a command
    run in the release the link points to; restarting it means running it, and it must exit 0."""

    def __init__(self, commands: Mapping[str, Callable[[], Sequence[str]]]) -> None:
        self._commands = commands
        self._ok: dict[str, bool] = {}
        self.calls: list[tuple[str, str]] = []
        #: what each unit says it is doing, one answer per question (the last one repeats); None: idle
        self.doing: dict[str, list[str | None]] = {}

    def _run(self, unit: str) -> None:
        done = subprocess.run(list(self._commands[unit]()), capture_output=True, text=True, timeout=120)
        self._ok[unit] = done.returncode == 0
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
            raise UpdateError("service_failed", f"{unit} : {tail[-1]}", f"{unit}: {tail[-1]}")

    def restart(self, unit: str) -> None:
        self.calls.append(("restart", unit))
        self._run(unit)

    def run_oneshot(self, unit: str) -> None:
        self.calls.append(("oneshot", unit))
        self._run(unit)

    def settled(self, unit: str, seconds: float) -> bool:
        self.calls.append(("settled", unit))
        return self._ok.get(unit, False)

    def busy(self, unit: str) -> str | None:
        answers = self.doing.get(unit) or [None]
        return answers.pop(0) if len(answers) > 1 else answers[0]


class FakeClock:
    """The updater's clock and sleep: waiting costs no time in the tests."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Device:
    """A device's /opt/fidelio and /data in a folder: its service is `fidelio --help` of the linked release."""

    def __init__(self, root: Path, keys: Path) -> None:
        self.root = root
        self.keys = load_trusted_keys(keys)
        self.dir = ReleaseDir(root / "opt")
        self.state = StateFile(root / "data" / "update.json")
        service = [str(self.dir.link / "bin" / "fidelio"), "--help"]
        self.services = CommandServices({"app.service": lambda: service, "backup.service": lambda: ["true"]})
        self.clock = FakeClock()
        self.updater = Updater(
            self.dir, self.services, RoleUnits(("app.service",), ("backup.service",)), self.state, settle_s=0,
            idle_wait_s=300, idle_poll_s=5, sleep=self.clock.sleep, clock=self.clock,
        )  # fmt: skip

    def factory_install(self, bundle: Path) -> None:
        self.dir.install(open_bundle(bundle, self.keys))
        self.dir.switch(open_bundle(bundle, self.keys).manifest.version)

    def apply(self, bundle: Path, **kw: bool) -> dict:
        return self.updater.apply(open_bundle(bundle, self.keys), **kw)

    def running(self) -> str:
        """What the link's interpreter itself says it is (not what the updater believes)."""
        code = "import fidelio; print(fidelio.__version__)"
        done = subprocess.run(
            [str(self.dir.link / "bin/python"), "-I", "-c", code], capture_output=True, text=True
        )
        return done.stdout.strip()
