"""Release bundles: one signed file that carries a whole Fidelio release, installable with no internet.

A bundle is an uncompressed tar (the wheels are compressed already) of:

- `manifest.json`: the version, the target (Python `X.Y` and platform, since some wheels are compiled:
  pyscard, evdev, Kivy, cryptography…), the SHA-256 and size of every wheel, the signing key's id;
- `manifest.sig`: the Ed25519 signature of the manifest's exact bytes (base64);
- `wheels/*.whl`: the project's wheel and every dependency, so `pip install --no-index` needs nothing else.

Nothing in a bundle is trusted before the signature and every hash are checked; members the manifest
does not list, links, and paths with a folder in them are refused, so a bundle cannot write outside the
folder it is unpacked into.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from packaging.version import InvalidVersion, Version

from fidelio.update.errors import UpdateError
from fidelio.update.keys import TrustedKey, key_id, verify_signature

FORMAT = 1
PRODUCT = "fidelio"
#: One image for both roles: every release installs the hub's and the kiosk's dependencies.
REQUIREMENT = "fidelio[hub,kiosk]"
SUFFIX = ".fidelio"
_WHEEL = re.compile(r"^[A-Za-z0-9_.+-]+\.whl$")
_PYTHON = re.compile(r"^3\.[0-9]{1,2}$")
_PLATFORM = re.compile(r"^[a-z0-9_]{1,40}$")
_SCHEMA = re.compile(rb"^SCHEMA_VERSION = ([0-9]+)$", re.M)
_CHUNK = 1 << 20


def this_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def this_platform() -> str:
    """`linux_aarch64` on a Pi, `linux_x86_64` on a PC: the wheel-tag spelling of the machine."""
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


@dataclass(frozen=True)
class WheelEntry:
    file: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    python: str
    platform: str
    created: str
    key_id: str
    wheels: tuple[WheelEntry, ...]
    requirement: str = REQUIREMENT
    #: the hub ledger's schema version this release writes (an older hub refuses a newer ledger)
    ledger_schema: int | None = None

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    def file_name(self) -> str:
        return f"{PRODUCT}-{self.version}-py{self.python}-{self.platform}{SUFFIX}"

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "product": PRODUCT,
            "version": self.version,
            "python": self.python,
            "platform": self.platform,
            "created": self.created,
            "key_id": self.key_id,
            "requirement": self.requirement,
            "ledger_schema": self.ledger_schema,
            "wheels": [{"file": w.file, "sha256": w.sha256, "size": w.size} for w in self.wheels],
        }
        return json.dumps(data, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("product") != PRODUCT:
                raise ValueError(f"not a format-{FORMAT} {PRODUCT} manifest")
            Version(data["version"])
            wheels = tuple(
                WheelEntry(str(w["file"]), str(w["sha256"]), int(w["size"])) for w in data["wheels"]
            )
            if not wheels or any(not _WHEEL.match(w.file) for w in wheels):
                raise ValueError("bad wheel list")
            if not _PYTHON.match(str(data["python"])) or not _PLATFORM.match(str(data["platform"])):
                raise ValueError("bad python or platform")
            schema = data.get("ledger_schema")
            if schema is not None and (not isinstance(schema, int) or isinstance(schema, bool)):
                raise ValueError("bad ledger_schema")
            return cls(
                version=str(data["version"]),
                python=str(data["python"]),
                platform=str(data["platform"]),
                created=str(data["created"]),
                key_id=str(data["key_id"]),
                wheels=wheels,
                requirement=str(data.get("requirement", REQUIREMENT)),
                ledger_schema=schema,
            )
        except (ValueError, KeyError, TypeError, InvalidVersion) as exc:
            raise UpdateError(
                "corrupt",
                f"Manifeste de mise à jour illisible ({exc})",
                f"Unreadable update manifest ({exc})",
            ) from exc


@dataclass(frozen=True)
class VerifiedBundle:
    path: Path
    manifest: Manifest
    sha256: str
    size: int
    signed_by: TrustedKey


def _corrupt(path: Path, why_fr: str, why_en: str) -> UpdateError:
    return UpdateError(
        "corrupt",
        f"Fichier de mise à jour abîmé ou incomplet : {path.name} ({why_fr})",
        f"Damaged or incomplete update file: {path.name} ({why_en})",
    )


def _sha256_of(fh: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def ledger_schema_of(wheel: Path) -> int | None:
    """The `SCHEMA_VERSION` the release's hub/ledger/schema.py declares (read, not imported)."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            found = _SCHEMA.search(zf.read("hub/ledger/schema.py"))
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    return int(found.group(1)) if found else None


def project_version(wheelhouse: Path) -> str:
    found = sorted(wheelhouse.glob(f"{PRODUCT}-*.whl"))
    if len(found) != 1:
        raise UpdateError(
            "bad_wheelhouse",
            f"Il faut exactement une roue {PRODUCT}-*.whl dans {wheelhouse} ({len(found)} trouvées)",
            f"Exactly one {PRODUCT}-*.whl wheel is needed in {wheelhouse} ({len(found)} found)",
        )
    return found[0].name.split("-")[1]


def build_bundle(
    wheelhouse: Path,
    out_dir: Path,
    private_key: Ed25519PrivateKey,
    *,
    python: str | None = None,
    platform: str | None = None,
    requirement: str = REQUIREMENT,
    now: datetime | None = None,
) -> Path:
    """Sign and write `out_dir/<name>.fidelio` from a folder of wheels (`pip wheel` / `pip download`)."""
    wheels = sorted(p for p in wheelhouse.iterdir() if p.suffix == ".whl")
    entries = []
    for wheel in wheels:
        with wheel.open("rb") as fh:
            sha, size = _sha256_of(fh)
        entries.append(WheelEntry(wheel.name, sha, size))
    manifest = Manifest(
        version=project_version(wheelhouse),
        python=python or this_python(),
        platform=platform or this_platform(),
        created=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        key_id=key_id(private_key.public_key()),
        wheels=tuple(entries),
        requirement=requirement,
        ledger_schema=ledger_schema_of(next(wheelhouse.glob(f"{PRODUCT}-*.whl"))),
    )
    raw = manifest.to_json()
    signature = base64.b64encode(private_key.sign(raw)) + b"\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / manifest.file_name()
    tmp = out.with_suffix(".part")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("manifest.json", raw), ("manifest.sig", signature)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        for wheel in wheels:
            info = tar.gettarinfo(wheel, arcname=f"wheels/{wheel.name}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            with wheel.open("rb") as fh:
                tar.addfile(info, fh)
    tmp.replace(out)
    return out


def _members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    for info in tar.getmembers():
        if not info.isfile():
            raise _corrupt(path, f"entrée non régulière {info.name!r}", f"non-regular entry {info.name!r}")
        if info.name in members:
            raise _corrupt(path, f"entrée en double {info.name!r}", f"duplicate entry {info.name!r}")
        members[info.name] = info
    return members


def open_bundle(path: Path, keys: list[TrustedKey]) -> VerifiedBundle:
    """Check the signature, the member list and every wheel's hash; raise `UpdateError` on any doubt."""
    try:
        with path.open("rb") as fh:
            file_sha, file_size = _sha256_of(fh)
        with tarfile.open(path, "r:") as tar:
            members = _members(tar, path)
            if "manifest.json" not in members or "manifest.sig" not in members:
                raise _corrupt(path, "manifeste absent", "no manifest")
            raw = _read(tar, members["manifest.json"])
            signature = base64.b64decode(_read(tar, members["manifest.sig"]).strip(), validate=True)
            manifest = Manifest.from_json(raw)
            signer = verify_signature(keys, manifest.key_id, raw, signature)
            listed = {f"wheels/{w.file}" for w in manifest.wheels}
            unlisted = set(members) - listed - {"manifest.json", "manifest.sig"}
            if unlisted or listed - set(members):
                raise _corrupt(path, "contenu différent du manifeste", "contents differ from the manifest")
            for wheel in manifest.wheels:
                _check_member(tar, members[f"wheels/{wheel.file}"], wheel, path)
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise _corrupt(path, str(exc), str(exc)) from exc
    return VerifiedBundle(path, manifest, file_sha, file_size, signer)


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo, limit: int = 1 << 20) -> bytes:
    if info.size > limit:
        raise ValueError(f"{info.name} is too large")
    fh = tar.extractfile(info)
    assert fh is not None  # a regular file (checked in _members)
    return fh.read()


def _check_member(tar: tarfile.TarFile, info: tarfile.TarInfo, wheel: WheelEntry, path: Path) -> None:
    fh = tar.extractfile(info)
    assert fh is not None
    sha, size = _sha256_of(fh)
    if sha != wheel.sha256 or size != wheel.size:
        raise _corrupt(path, f"{wheel.file} ne correspond pas", f"{wheel.file} does not match")


def extract_wheels(bundle: VerifiedBundle, dest: Path) -> list[Path]:
    """Unpack the wheels into `dest`, each checked again (size and hash) as it is written: the file may
    have changed since it was opened (it sits in the hub user's folder on a hub)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    try:
        with tarfile.open(bundle.path, "r:") as tar:
            members = _members(tar, bundle.path)
            for wheel in bundle.manifest.wheels:
                target = dest / wheel.file
                fh = tar.extractfile(members[f"wheels/{wheel.file}"])
                assert fh is not None
                digest, written = hashlib.sha256(), 0
                with target.open("wb") as outfh:
                    for chunk in _chunks(fh):
                        written += len(chunk)
                        if written > wheel.size:
                            raise _corrupt(bundle.path, f"{wheel.file} a changé", f"{wheel.file} changed")
                        digest.update(chunk)
                        outfh.write(chunk)
                if digest.hexdigest() != wheel.sha256 or written != wheel.size:
                    raise _corrupt(bundle.path, f"{wheel.file} a changé", f"{wheel.file} changed")
                out.append(target)
    except (KeyError, tarfile.TarError) as exc:
        raise _corrupt(bundle.path, f"a changé ({exc})", f"changed ({exc})") from exc
    return out


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    return {
        "version": manifest.version,
        "python": manifest.python,
        "platform": manifest.platform,
        "created": manifest.created,
        "key_id": manifest.key_id,
        "wheels": len(manifest.wheels),
    }
