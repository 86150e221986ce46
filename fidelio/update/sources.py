"""Where a device finds the release it should run.

- A kiosk asks its hub over HTTPS (`/updates/v1/` of the hub's staff web; the shop's own CA; HTTP Basic
  with the kiosk's own broker credentials), downloads the bundle into `/data` and reports the outcome.
  The kiosk needs no internet: the hub is the only server it ever talks to.
- A hub reads the same answer from its own update store (`hub/updates.py`, written by the staff page or
  `fidelio-hub update deploy`).
The bundle is checked against the device's trusted keys whatever the source says (`bundle.open_bundle`).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import shutil
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fidelio.update.errors import UpdateError

_CHUNK = 1 << 20
#: what a download leaves free on /data, for the kiosk's offline queue and member cache
DOWNLOAD_RESERVE = 256 * 2**20
#: the longest text a report carries per field (pip's or systemctl's words can run long)
_REPORT_TEXT = 600


@dataclass(frozen=True)
class Target:
    version: str | None
    file: str | None = None
    sha256: str | None = None
    size: int | None = None
    allow_downgrade: bool = False
    problem: dict[str, str] | None = None


class Source(Protocol):
    def target(self, python: str, platform: str) -> Target: ...

    def fetch(self, target: Target, dest_dir: Path) -> Path:
        """The bundle file on local disk (downloaded and hash-checked, or where the hub keeps it)."""

    def report(self, running: str, result: dict[str, Any]) -> None: ...


def _target(data: dict[str, Any]) -> Target:
    return Target(
        version=data.get("version"),
        file=data.get("file"),
        sha256=data.get("sha256"),
        size=data.get("size"),
        allow_downgrade=bool(data.get("allow_downgrade", False)),
        problem=data.get("error"),
    )


def _unreachable(url: str, detail: object) -> UpdateError:
    return UpdateError(
        "hub_unreachable",
        f"Hub injoignable pour les mises à jour ({url} : {detail})",
        f"Hub unreachable for updates ({url}: {detail})",
    )


class HubSource:
    def __init__(
        self, url: str, username: str, password: str, ca_pem: str | None, timeout_s: float = 30
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "User-Agent": "fidelio-update"}
        self._ssl = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
        self._timeout_s = timeout_s

    def _open(self, path: str, body: bytes | None = None) -> Any:
        url = urllib.parse.urljoin(self.url, path)
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
        try:
            return urllib.request.urlopen(request, timeout=self._timeout_s, context=self._ssl)
        except urllib.error.HTTPError as exc:
            detail: object = f"HTTP {exc.code}"
            try:
                error = json.loads(exc.read()).get("error") or {}
                detail = f"HTTP {exc.code} {error.get('en') or ''}".strip()
            except (ValueError, AttributeError):
                pass
            raise _unreachable(url, detail) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise _unreachable(url, getattr(exc, "reason", exc)) from exc

    def target(self, python: str, platform: str) -> Target:
        query = urllib.parse.urlencode({"python": python, "platform": platform})
        with self._open(f"target?{query}") as response:
            return _target(json.loads(response.read()))

    def fetch(self, target: Target, dest_dir: Path) -> Path:
        assert target.file and target.sha256 and target.size is not None
        dest_dir.mkdir(parents=True, exist_ok=True)
        final = dest_dir / Path(target.file).name
        if final.exists() and _sha256(final) == target.sha256:
            return final
        for old in dest_dir.iterdir():  # one bundle at a time on the card: older ones go first
            old.unlink(missing_ok=True)
        needed = target.size + DOWNLOAD_RESERVE
        free = shutil.disk_usage(dest_dir).free
        if free < needed:
            raise UpdateError(
                "disk",
                f"Place insuffisante pour télécharger la mise à jour ({free // 2**20} Mo libres, "
                f"{needed // 2**20} Mo nécessaires avec la réserve de la file d'attente)",
                f"Not enough room to download the update ({free // 2**20} MB free, "
                f"{needed // 2**20} MB needed with the queue's reserve)",
            )
        part = final.with_name(final.name + ".part")
        try:
            digest = self._download(final.name, part, target.size)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        if digest != target.sha256:
            part.unlink(missing_ok=True)
            raise UpdateError(
                "corrupt",
                "Le fichier reçu du hub ne correspond pas à celui annoncé",
                "The file received from the hub is not the one announced",
            )
        part.replace(final)
        return final

    def _download(self, name: str, part: Path, size: int) -> str:
        """Stream into `part`, never more than the announced size; network and disk faults told apart."""
        digest, received = hashlib.sha256(), 0
        path = f"bundles/{urllib.parse.quote(name)}"
        url = urllib.parse.urljoin(self.url, path)
        with self._open(path) as response, part.open("wb") as out:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _unreachable(url, f"{type(exc).__name__}: {exc}") from exc
                if not chunk:
                    break
                received += len(chunk)
                if received > size:
                    raise UpdateError(
                        "corrupt",
                        "Le hub envoie plus que le fichier annoncé",
                        "The hub sends more than the file",
                    )
                digest.update(chunk)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise UpdateError(
                        "disk",
                        f"Téléchargement impossible à écrire ({exc.strerror or exc})",
                        f"Could not write the download ({exc.strerror or exc})",
                    ) from exc
            out.flush()
            os.fsync(out.fileno())
        if received != size:
            raise _unreachable(url, f"{received} of {size} bytes received")
        return digest.hexdigest()

    def report(self, running: str, result: dict[str, Any]) -> None:
        fields = ("state", "version", "code", "fr", "en", "at")
        clean = {k: (v[:_REPORT_TEXT] if isinstance(v, str) else v) for k, v in result.items() if k in fields}
        body = json.dumps({"running": running, "result": clean}).encode()
        with self._open("report", body) as response:
            response.read()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LocalHubSource:
    """The hub device's own store (the hub's data directory); reports go to the same store."""

    def __init__(self, hub_data: Path) -> None:
        from hub.updates import UpdateStore  # the hub's package; only a hub device uses this source

        self._store = UpdateStore(hub_data)

    def target(self, python: str, platform: str) -> Target:
        data = self._store.target_for(python, platform)
        target = _target(data)
        self._path = data.get("path")
        return target

    def fetch(self, target: Target, dest_dir: Path) -> Path:
        if not getattr(self, "_path", None):
            raise UpdateError("no_bundle", "Aucun fichier pour cette version", "No file for this version")
        return Path(self._path)

    def report(self, running: str, result: dict[str, Any]) -> None:
        """The hub's own outcome is in the updater's state file, shown by the staff page."""
