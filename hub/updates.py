"""The hub's store of software updates, `DIR/updates/`: the release bundles it serves to its kiosks
(and to its own updater), the version the shop chose to deploy, and what each kiosk last reported.

- `bundles/<fidelio-VERSION-pyX.Y-PLATFORM>.fidelio`: imported bundles (fidelio/update/bundle.py), each
  checked against the trusted release keys before it is kept; the file name is the manifest's, so one
  version has one file per Python and platform;
- `target.json`: `{"version", "allow_downgrade", "set_at", "set_by"}`, absent when nothing is deployed;
- `reports/<kiosk>.json`: the kiosk's last update report and when the hub received it.

Every write is atomic (temporary file, fsync, rename) and made under one lock; files are 0640 in 0750
folders, the hub's like the rest of its data directory. The hub only serves bundles: each device checks
the signature again with its own keys before installing anything.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from packaging.version import InvalidVersion, Version

from fidelio.contract.topics import valid_id
from fidelio.update.bootcheck import fsync_dir
from fidelio.update.bundle import PRODUCT, SUFFIX, VerifiedBundle, open_bundle
from fidelio.update.errors import UpdateError
from fidelio.update.keys import DEFAULT_KEYS_DIR, TrustedKey, load_trusted_keys
from hub.broker.files import write_atomic
from hub.config import ConfigError, HubPaths, load_config
from hub.ledger import iso

_CHUNK = 1 << 20
_PYTHON = re.compile(r"^\d{1,2}\.\d{1,3}$")
_PLATFORM = re.compile(r"^[a-z0-9_]{1,64}$")
_STALE_UPLOAD_S = 3600
_FILE_MODE, _DIR_MODE = 0o640, 0o750


def bundle_name(version: str, python: str, platform: str) -> str:
    """The file name a bundle of that version for that Python and platform has (`Manifest.file_name`)."""
    return f"{PRODUCT}-{version}-py{python}-{platform}{SUFFIX}"


@dataclass(frozen=True)
class BundleRow:
    """One file of `bundles/`: verified (`bundle`) or not (`error`, with the reason in words)."""

    file: str
    size: int
    bundle: VerifiedBundle | None = None
    error: UpdateError | None = None

    @property
    def ok(self) -> bool:
        return self.bundle is not None


@dataclass(frozen=True)
class Imported:
    bundle: VerifiedBundle
    #: the very same file was imported before: nothing changed
    already: bool


# -- verification, cached by file identity: a page or a kiosk's hourly poll need not hash 100 MB again.
_verified_cache: dict[tuple[Any, ...], VerifiedBundle | tuple[str, str, str]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 256


def _cache_key(path: Path, keys: list[TrustedKey]) -> tuple[Any, ...]:
    st = path.stat()
    fingerprint = tuple(sorted(k.key_id for k in keys))
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, fingerprint)


def _remember(path: Path, keys: list[TrustedKey], verified: VerifiedBundle) -> VerifiedBundle:
    with _cache_lock:
        _verified_cache[_cache_key(path, keys)] = verified
    return verified


def _verify(path: Path, keys: list[TrustedKey]) -> VerifiedBundle:
    key = _cache_key(path, keys)
    with _cache_lock:
        hit = _verified_cache.get(key)
    if hit is None:
        try:
            hit = open_bundle(path, keys)
        except UpdateError as exc:
            hit = (exc.code, exc.fr, exc.en)
        except Exception as exc:  # whatever a damaged file makes the tar reader raise: a reason, not a crash
            hit = (
                "corrupt",
                f"Fichier de mise à jour abîmé ou incomplet : {path.name} ({exc!r})",
                f"Damaged or incomplete update file: {path.name} ({exc!r})",
            )
        with _cache_lock:
            if len(_verified_cache) >= _CACHE_MAX:
                _verified_cache.clear()
            _verified_cache[key] = hit
    if isinstance(hit, tuple):
        raise UpdateError(*hit)
    return hit


class UpdateStore:
    """`DIR/updates/` of the hub whose data directory is `data_dir`.

    `keys_dir` is where the trusted public release keys are; None: the hub config's
    `[updates] release_keys` (or /etc/fidelio/release-keys when there is no config).
    """

    def __init__(self, data_dir: Path, keys_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.keys_dir = keys_dir
        self.root = self.data_dir / "updates"
        self.bundles_dir = self.root / "bundles"
        self.reports_dir = self.root / "reports"
        self.target_file = self.root / "target.json"
        #: the hub device's own updater (`fidelio-update`, root) keeps its outcome here: the appliance's
        #: `/data/fidelio/update.json` beside the hub's `/data/hub` (fidelio/update/state.py)
        self.hub_state_file = self.data_dir.parent / "fidelio" / "update.json"

    # -- keys ---------------------------------------------------------------------------------------
    def trusted_keys_dir(self) -> Path:
        if self.keys_dir is not None:
            return self.keys_dir
        paths = HubPaths(self.data_dir)
        if not paths.config.exists():
            return DEFAULT_KEYS_DIR
        try:
            return load_config(paths).updates.keys_dir
        except ConfigError as exc:
            raise UpdateError("config", str(exc), str(exc)) from exc

    def keys(self) -> list[TrustedKey]:
        return load_trusted_keys(self.trusted_keys_dir())

    # -- writing ------------------------------------------------------------------------------------
    def _ensure_dirs(self) -> None:
        for directory in (self.root, self.bundles_dir, self.reports_dir):
            if not directory.is_dir():
                directory.mkdir(parents=True, exist_ok=True)
                os.chmod(directory, _DIR_MODE)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One change at a time (the web and the CLI may both import or deploy)."""
        self._ensure_dirs()
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def import_file(self, source: Path) -> Imported:
        """Copy `source` in, verify the copy, and keep it under its manifest's name."""
        try:
            fh = Path(source).open("rb")  # noqa: SIM115 (closed below; only opening says "cannot read")
        except OSError as exc:
            raise UpdateError(
                "unreadable",
                f"Lecture impossible : {source} ({exc.strerror})",
                f"Cannot read {source} ({exc.strerror})",
            ) from exc
        with fh:
            return self.import_stream(fh)

    def import_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> Imported:
        """Stream a bundle (an upload, a file) into `bundles/`; refused beyond `max_bytes`.

        The copy is what gets verified, not the source, so the file kept is the file checked. The same
        file imported again is fine; another file with an imported bundle's name is refused (a bundle's
        name never changes meaning), unless the one kept is damaged: then the good one replaces it."""
        keys = self.keys()  # before copying 100 MB: no key, no import
        self._ensure_dirs()
        self._drop_stale_uploads()
        tmp = self._receive(stream, max_bytes)
        try:
            verified = _verify(tmp, keys)
            final = self.bundles_dir / verified.manifest.file_name()
            with self._locked():
                if final.exists():
                    try:
                        existing = _verify(final, keys)
                    except UpdateError:
                        existing = None  # damaged: replaced below
                    if existing is not None and existing.sha256 == verified.sha256:
                        return Imported(existing, already=True)
                    if existing is not None:
                        raise UpdateError(
                            "name_taken",
                            f"Un autre fichier porte déjà le nom {final.name} (contenu différent) : "
                            "une version publiée ne change pas ; refusé",
                            f"Another file already has the name {final.name} (different contents): "
                            "a released version does not change; refused",
                        )
                os.chmod(tmp, _FILE_MODE)
                os.replace(tmp, final)  # the same inode: what was verified is what is kept
                fsync_dir(self.bundles_dir)
            return Imported(_remember(final, keys, replace(verified, path=final)), already=False)
        finally:
            tmp.unlink(missing_ok=True)

    def _receive(self, stream: BinaryIO, max_bytes: int | None) -> Path:
        fd, name = tempfile.mkstemp(prefix=".import-", suffix=".part", dir=self.bundles_dir)
        tmp = Path(name)
        try:
            os.fchmod(fd, 0o600)
            written = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:
                        raise UpdateError(
                            "too_large",
                            f"Fichier trop gros (plus de {max_bytes // 2**20} Mo)",
                            f"File too large (over {max_bytes // 2**20} MB)",
                        )
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def _drop_stale_uploads(self) -> None:
        """Copies left by an import that died (power cut) are removed by the next one."""
        for leftover in self.bundles_dir.glob(".import-*.part"):
            try:
                if time.time() - leftover.stat().st_mtime > _STALE_UPLOAD_S:
                    leftover.unlink()
            except FileNotFoundError:
                pass

    def set_target(
        self, version: str, *, allow_downgrade: bool, set_by: str, now: datetime
    ) -> dict[str, Any]:
        """Deploy `version` (it must have an imported bundle): every device moves to it on its next check."""
        self.keys()  # no trusted key: say that, not "no bundle"
        with self._locked():  # a bundle removed meanwhile is not deployed
            found = self.bundles_of(version)
            if not found:
                raise UpdateError(
                    "unknown_version",
                    f"Aucun paquet importé pour la version « {version} » : importez-le d'abord",
                    f"No imported bundle for version '{version}': import it first",
                )
            target = {
                "version": found[0].manifest.version,
                "allow_downgrade": bool(allow_downgrade),
                "set_at": iso(now),
                "set_by": set_by,
            }
            write_atomic(self.target_file, json.dumps(target, indent=1) + "\n", _FILE_MODE)
        return target

    def clear_target(self) -> dict[str, Any] | None:
        """Deploy nothing any more (devices keep what they run); returns the target that was set (its
        version None when the file was unreadable: it is removed all the same), None when there was none."""
        with self._locked():
            try:
                previous = self.target()
            except UpdateError as exc:
                previous = {"version": None, "error": exc.as_dict()}
            if previous is not None:
                self.target_file.unlink()
                fsync_dir(self.root)
        return previous

    def remove(self, file: str) -> BundleRow:
        """Delete an imported bundle file (a damaged one too), never the deployed version's: devices may
        be downloading it. Returns the row that was removed."""
        row = next((r for r in self.bundles() if r.file == file), None)
        if row is None:
            raise UpdateError(
                "unknown_file", f"Aucun paquet importé nommé « {file} »", f"No imported bundle named '{file}'"
            )
        with self._locked():
            try:
                target = self.target()
            except UpdateError:
                target = None  # an unreadable target deploys nothing
            # by its name too: a deployed bundle that does not verify today (keys unreadable) stays
            deployed = target is not None and (
                row.file.startswith(f"{PRODUCT}-{target['version']}-py")
                or (
                    row.bundle is not None
                    and Version(target["version"]) == row.bundle.manifest.parsed_version
                )
            )
            if deployed:
                assert target is not None
                raise UpdateError(
                    "deployed",
                    f"La version {target['version']} est déployée : annulez le déploiement (ou déployez-en "
                    "une autre) avant de supprimer son paquet",
                    f"Version {target['version']} is deployed: cancel the deployment (or deploy another "
                    "version) before removing its bundle",
                )
            (self.bundles_dir / row.file).unlink(missing_ok=True)
            fsync_dir(self.bundles_dir)
        return row

    def record_report(self, kiosk: str, report: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Keep `report` (`{"running", "result"}`) as the kiosk's latest, stamped with hub time."""
        if not valid_id(kiosk):
            raise UpdateError("bad_kiosk", f"Borne invalide : {kiosk!r}", f"Invalid kiosk: {kiosk!r}")
        row = {"kiosk": kiosk, "received_at": iso(now), **report}
        self._ensure_dirs()
        write_atomic(
            self.reports_dir / f"{kiosk}.json", json.dumps(row, ensure_ascii=False) + "\n", _FILE_MODE
        )
        return row

    # -- reading ------------------------------------------------------------------------------------
    def bundles(self) -> list[BundleRow]:
        """Every bundle file, verified, newest version first; a damaged one comes with its reason."""
        if not self.bundles_dir.is_dir():
            return []
        try:
            keys: list[TrustedKey] | UpdateError = self.keys()
        except UpdateError as exc:
            keys = exc
        rows = []
        for path in sorted(self.bundles_dir.glob(f"*{SUFFIX}")):
            if path.name.startswith(".") or not path.is_file():
                continue
            size = path.stat().st_size
            if isinstance(keys, UpdateError):
                rows.append(BundleRow(path.name, size, error=keys))
                continue
            try:
                verified = _verify(path, keys)
            except UpdateError as exc:
                rows.append(BundleRow(path.name, size, error=exc))
                continue
            if verified.manifest.file_name() != path.name:
                rows.append(BundleRow(path.name, size, error=_misnamed(path.name, verified)))
                continue
            rows.append(BundleRow(path.name, size, bundle=verified))
        return _newest_first(rows)

    def bundles_of(self, version: str) -> list[VerifiedBundle]:
        """The verified bundles of `version` (any spelling of it: "0.2" is "0.2.0")."""
        try:
            wanted = Version(version)
        except InvalidVersion:
            return []
        return [r.bundle for r in self.bundles() if r.bundle and r.bundle.manifest.parsed_version == wanted]

    def bundle_path(self, file: str) -> Path | None:
        """The path of an imported, verified bundle named exactly `file`; None for anything else."""
        for row in self.bundles():
            if row.ok and row.file == file:
                return self.bundles_dir / row.file
        return None

    def target(self) -> dict[str, Any] | None:
        try:
            raw = self.target_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
            Version(data["version"])
            if not isinstance(data["allow_downgrade"], bool) or not isinstance(data["set_at"], str):
                raise ValueError("bad types")
            return data
        except (ValueError, KeyError, TypeError, InvalidVersion) as exc:
            raise UpdateError(
                "corrupt_target",
                f"{self.target_file} illisible ({exc}) : annulez puis redéployez la version",
                f"{self.target_file} unreadable ({exc}): cancel, then deploy the version again",
            ) from exc

    def target_for(self, python: str, platform: str) -> dict[str, Any]:
        """What a device running Python `python` on `platform` should install: the dict the HTTP API
        returns, plus `path` (the bundle's absolute path, for the hub's own updater; never sent)."""
        if not _PYTHON.match(python) or not _PLATFORM.match(platform):
            raise UpdateError(
                "bad_query",
                f"Python {python!r} ou plate-forme {platform!r} invalide",
                f"Invalid Python {python!r} or platform {platform!r}",
            )
        target = self.target()
        if target is None:
            return {"version": None}
        version = target["version"]
        path = self.bundles_dir / bundle_name(version, python, platform)
        try:
            if not path.is_file():
                raise UpdateError(
                    "no_bundle_for_platform",
                    f"La version {version} est déployée, mais le hub n'a pas son paquet pour Python {python} "
                    f"sur {platform} : importez-le",
                    f"Version {version} is deployed, but the hub has no bundle of it for Python {python} on "
                    f"{platform}: import it",
                )
            verified = _verify(path, self.keys())
        except UpdateError as exc:
            return {"version": version, "file": None, "error": exc.as_dict()}
        return {
            "version": version,
            "file": path.name,
            "sha256": verified.sha256,
            "size": verified.size,
            "allow_downgrade": target["allow_downgrade"],
            "set_at": target["set_at"],
            "path": str(path),
        }

    def hub_last_update(self) -> dict[str, Any] | None:
        """The hub's own last update result (`{"state", "version", "code", "fr", "en", "at"}`), if any."""
        try:
            data = json.loads(self.hub_state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        last = data.get("last") if isinstance(data, dict) else None
        return last if isinstance(last, dict) else None

    def report(self, kiosk: str) -> dict[str, Any] | None:
        return self.reports().get(kiosk)

    def reports(self) -> dict[str, dict[str, Any]]:
        """kiosk -> its last report (an unreadable file is skipped: the next report replaces it)."""
        out: dict[str, dict[str, Any]] = {}
        if not self.reports_dir.is_dir():
            return out
        for path in sorted(self.reports_dir.glob("*.json")):
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(row, dict) and valid_id(path.stem):
                out[path.stem] = row
        return out


def _misnamed(name: str, verified: VerifiedBundle) -> UpdateError:
    right = verified.manifest.file_name()
    return UpdateError(
        "misnamed",
        f"{name} devrait s'appeler {right} : importez-le plutôt que de le copier",
        f"{name} should be named {right}: import it rather than copy it",
    )


def _newest_first(rows: list[BundleRow]) -> list[BundleRow]:
    """Verified bundles by version, newest first (then by name); damaged files last."""
    good = sorted((r for r in rows if r.bundle is not None), key=lambda r: r.file)
    good.sort(key=lambda r: r.bundle.manifest.parsed_version, reverse=True)  # type: ignore[union-attr]
    return good + [r for r in rows if r.bundle is None]
