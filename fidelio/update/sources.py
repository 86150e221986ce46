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
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fidelio.update.errors import UpdateError

_CHUNK = 1 << 20


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
        assert target.file and target.sha256
        dest_dir.mkdir(parents=True, exist_ok=True)
        final = dest_dir / Path(target.file).name
        if final.exists() and _sha256(final) == target.sha256:
            return final
        part = final.with_name(final.name + ".part")
        digest = hashlib.sha256()
        try:
            with self._open(f"bundles/{urllib.parse.quote(final.name)}") as response, part.open("wb") as out:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc, UpdateError):
                raise
            raise UpdateError(
                "disk", f"Téléchargement impossible à écrire ({exc})", f"Could not write the download ({exc})"
            ) from exc
        if digest.hexdigest() != target.sha256:
            part.unlink(missing_ok=True)
            raise UpdateError(
                "corrupt",
                "Le fichier reçu du hub ne correspond pas à celui annoncé",
                "The file received from the hub is not the one announced",
            )
        part.replace(final)
        for old in dest_dir.iterdir():  # one bundle kept: the one just downloaded
            if old != final:
                old.unlink(missing_ok=True)
        return final

    def report(self, running: str, result: dict[str, Any]) -> None:
        body = json.dumps({"running": running, "result": result}).encode()
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
