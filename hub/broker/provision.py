"""Setting up the shop's broker and its kiosks: `fidelio-hub init` and `fidelio-hub kiosk add/list/revoke`.

The kiosk registry (`DIR/kiosks.json`, root:mosquitto 0640 like the broker's files: the hub service, in
group `mosquitto`, reads it for the kiosks page and the update endpoints) is the source of truth for who may connect; the ACL is rebuilt
from it and the password file keeps the hashes. Every rewrite is atomic and done under a lock, then
the running broker (if any) is told to reload with SIGHUP.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fidelio.contract.topics import valid_id

from . import acl, conf, pki
from .errors import BrokerError
from .files import set_broker_owned, set_broker_readable, untraversable_for_mosquitto, write_atomic
from .passwords import format_password_file, hash_password, new_password, parse_password_file
from .settings import HUB_USERNAME, BrokerPaths, BrokerSettings, HubCredentials, kiosk_username

log = logging.getLogger(__name__)

REGISTRY_VERSION = 1
MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def _paths(data_dir: Path) -> BrokerPaths:
    return BrokerPaths(Path(data_dir).absolute())


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def _check_path_usable(path: Path) -> None:
    # mosquitto.conf has no quoting: a path with spaces or control characters would be misread.
    if any(c.isspace() or not c.isprintable() for c in str(path)):
        raise BrokerError(
            f"Le dossier de données ne doit contenir ni espace ni caractère de contrôle : {str(path)!r}",
            f"The data directory must not contain spaces or control characters: {str(path)!r}",
        )


# --- init ---------------------------------------------------------------------------------------------


def init_broker(data_dir: Path, settings: BrokerSettings) -> HubCredentials:
    """Create `DIR/mosquitto/` (CA, server certificate, passwd, acl, mosquitto.conf, data/) and an empty
    kiosk registry. Returns the hub's own broker user; its password is stored nowhere else, so the
    caller keeps it in the hub's config. Refuses to touch an existing broker setup."""
    paths = _paths(data_dir)
    _check_path_usable(paths.root)
    if (paths.root.exists() and any(paths.root.iterdir())) or paths.kiosks.exists():
        raise BrokerError(
            f"Le broker est déjà initialisé dans {paths.root} ; rien n'a été modifié",
            f"The broker is already initialised in {paths.root}; nothing was changed",
        )
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    password = new_password()
    # Build everything in a scratch directory, then rename it into place: no half-made setup.
    scratch = Path(tempfile.mkdtemp(prefix=".mosquitto-init-", dir=paths.data_dir))
    try:
        _write_initial_files(BrokerPaths(paths.data_dir), scratch, settings, password)
        scratch.rename(paths.root)  # replaces an empty `mosquitto/` directory too
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    write_atomic(paths.kiosks, _registry_json([]), 0o640, broker_readable=True)
    blocked = untraversable_for_mosquitto(paths.root)
    if blocked:
        log.warning(
            "the mosquitto user cannot enter %s: the broker will not start until they are traversable",
            ", ".join(map(str, blocked)),
        )
    return HubCredentials(HUB_USERNAME, password, "127.0.0.1", settings.local_port)


def _write_initial_files(
    final: BrokerPaths, scratch: Path, settings: BrokerSettings, hub_password: str
) -> None:
    """Write the files into `scratch`; their contents name the final paths (`final.root`)."""

    def at(path: Path) -> Path:
        return scratch / path.relative_to(final.root)

    ca = pki.create_ca(settings.shop)
    server = pki.create_server_cert(ca, pki.server_names(settings.mqtt_host))
    write_atomic(at(final.ca_key), ca.key_pem, 0o600)
    write_atomic(at(final.ca_crt), ca.cert_pem, 0o640, broker_readable=True)
    write_atomic(at(final.server_key), server.key_pem, 0o640, broker_readable=True)
    write_atomic(at(final.server_crt), server.cert_pem, 0o640, broker_readable=True)
    entries = {HUB_USERNAME: hash_password(hub_password)}
    write_atomic(at(final.passwd), format_password_file(entries), 0o640, broker_readable=True)
    write_atomic(at(final.acl), acl.acl_text(settings.shop, []), 0o640, broker_readable=True)
    write_atomic(at(final.conf), conf.mosquitto_conf(settings, final), 0o640, broker_readable=True)
    write_atomic(at(final.settings), settings.to_json(), 0o640, broker_readable=True)
    at(final.persistence).mkdir()
    set_broker_owned(at(final.persistence), 0o750)
    set_broker_readable(scratch, 0o750)


def load_settings(data_dir: Path) -> BrokerSettings:
    paths = _paths(data_dir)
    try:
        return BrokerSettings.from_json(paths.settings.read_text())
    except FileNotFoundError:
        raise BrokerError(
            f"Aucun broker initialisé dans {paths.root} (lancez d'abord `fidelio-hub init`)",
            f"No broker initialised in {paths.root} (run `fidelio-hub init` first)",
        ) from None


# --- kiosk registry -----------------------------------------------------------------------------------


@contextmanager
def _locked(paths: BrokerPaths) -> Iterator[None]:
    """Serialise registry changes (CLI and web may both add kiosks)."""
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _registry_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps({"version": REGISTRY_VERSION, "kiosks": rows}, indent=2, ensure_ascii=False) + "\n"


def _load_registry(paths: BrokerPaths) -> list[dict[str, Any]]:
    try:
        return list(json.loads(paths.kiosks.read_text())["kiosks"])
    except FileNotFoundError:
        return []


def _active_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows if row.get("revoked_at") is None]


def _write_auth(
    paths: BrokerPaths, settings: BrokerSettings, rows: list[dict[str, Any]], new: dict[str, str]
) -> None:
    """Rewrite passwd (hub + active kiosks, keeping existing hashes, adding `new`) and the ACL."""
    active = _active_ids(rows)
    current = parse_password_file(paths.passwd.read_text())
    wanted = {HUB_USERNAME} | {kiosk_username(k) for k in active}
    entries = {user: hashed for user, hashed in current.items() if user in wanted}
    entries.update(new)
    write_atomic(paths.passwd, format_password_file(entries), 0o640, broker_readable=True)
    write_atomic(paths.acl, acl.acl_text(settings.shop, active), 0o640, broker_readable=True)


def _check_kiosk_id(kiosk_id: str) -> None:
    if not valid_id(kiosk_id):
        raise BrokerError(
            f"Identifiant de borne invalide : {kiosk_id!r} (minuscules, chiffres et tirets, 32 au plus)",
            f"Invalid kiosk id: {kiosk_id!r} (lower-case letters, digits and dashes, at most 32)",
        )


def kiosk_add(data_dir: Path, kiosk_id: str, out: Path, *, now: datetime | None = None) -> dict[str, Any]:
    """Create broker user `kiosk-<id>` with a random password and its ACL, reload the broker, and write
    the kiosk's provisioning file to `out` (TOML, 0600; refused if `out` exists). A revoked id may be
    added again. Returns the registry row plus `provisioning_file` and `broker_reloaded`."""
    _check_kiosk_id(kiosk_id)
    paths = _paths(data_dir)
    settings = load_settings(data_dir)
    out = Path(out).absolute()
    with _locked(paths):
        rows = _load_registry(paths)
        if kiosk_id in _active_ids(rows):
            raise BrokerError(
                f"La borne {kiosk_id!r} existe déjà (révoquez-la d'abord pour la recréer)",
                f"Kiosk {kiosk_id!r} already exists (revoke it first to create it again)",
            )
        if out.exists():
            raise BrokerError(
                f"Le fichier {out} existe déjà ; choisissez un autre chemin",
                f"File {out} already exists; choose another path",
            )
        password = new_password()
        username = kiosk_username(kiosk_id)
        text = provisioning_toml(
            settings, kiosk_id, username, password, paths.ca_crt.read_text(), updates_url(data_dir, settings)
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, text, 0o600)
        row = {"id": kiosk_id, "username": username, "added_at": _now(now), "revoked_at": None}
        rows = [r for r in rows if r["id"] != kiosk_id] + [row]
        try:
            _write_auth(paths, settings, rows, {username: hash_password(password)})
            write_atomic(paths.kiosks, _registry_json(rows), 0o640, broker_readable=True)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    reloaded = reload_broker(data_dir)
    return {**row, "provisioning_file": str(out), "broker_reloaded": reloaded}


def kiosk_list(data_dir: Path) -> list[dict[str, Any]]:
    """Every kiosk ever added, revoked ones included (`revoked_at` not None), in the order added."""
    load_settings(data_dir)  # a clear error when there is no broker here
    return _load_registry(_paths(data_dir))


def kiosk_revoke(data_dir: Path, kiosk_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Remove the kiosk's user and ACL, keep its registry row with `revoked_at`, reload the broker.
    Returns the row plus `broker_reloaded`."""
    _check_kiosk_id(kiosk_id)
    paths = _paths(data_dir)
    settings = load_settings(data_dir)
    with _locked(paths):
        rows = _load_registry(paths)
        if kiosk_id not in _active_ids(rows):
            known = any(r["id"] == kiosk_id for r in rows)
            raise BrokerError(
                f"La borne {kiosk_id!r} est déjà révoquée" if known else f"Borne inconnue : {kiosk_id!r}",
                f"Kiosk {kiosk_id!r} is already revoked" if known else f"Unknown kiosk: {kiosk_id!r}",
            )
        row = next(r for r in rows if r["id"] == kiosk_id)
        row["revoked_at"] = _now(now)
        _write_auth(paths, settings, rows, {})
        write_atomic(paths.kiosks, _registry_json(rows), 0o640, broker_readable=True)
    return {**row, "broker_reloaded": reload_broker(data_dir)}


# --- provisioning file --------------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    """A TOML basic string, escaping what TOML requires (quotes, backslashes, control characters)."""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _toml_multiline(value: str) -> str:
    """A multi-line literal string when that is exact (always for PEM text), else a basic string."""
    if (
        "'''" not in value
        and not value.endswith("'")
        and all(c in "\n\t" or (ord(c) >= 0x20 and ord(c) != 0x7F) for c in value)
    ):
        return "'''\n" + value + "'''"
    return _toml_string(value)


def provisioning_toml(
    settings: BrokerSettings,
    kiosk_id: str,
    username: str,
    password: str,
    ca_pem: str,
    updates_url: str | None = None,
) -> str:
    """The kiosk's provisioning file (DESIGN §3b); it round-trips through `tomllib`. `updates_url`:
    where the kiosk fetches its software updates from the hub (`[updates] url`), none when None."""
    updates = f"\n[updates]\nurl = {_toml_string(updates_url)}\n" if updates_url else ""
    return (
        "# Fidelio kiosk provisioning file. It holds this kiosk's broker password: copy it to the kiosk,\n"
        "# then delete this copy. Revoke with `fidelio-hub kiosk revoke ID`.\n"
        f"shop = {_toml_string(settings.shop)}\n"
        f"kiosk = {_toml_string(kiosk_id)}\n"
        "\n[mqtt]\n"
        f"host = {_toml_string(settings.mqtt_host)}\n"
        f"port = {settings.tls_port}\n"
        f"username = {_toml_string(username)}\n"
        f"password = {_toml_string(password)}\n"
        "tls = true\n"
        f"ca = {_toml_multiline(ca_pem)}\n"
        f"{updates}"
    )


def updates_url(data_dir: Path, settings: BrokerSettings) -> str | None:
    """The hub's update endpoint as kiosks reach it: the broker's host name (the name the shop CA's
    web certificate carries too) and the staff web's port, from the hub's config. None without a hub
    config (a bare broker) or when the web is plain HTTP on loopback (no kiosk can reach it)."""
    from hub.config import ConfigError, HubPaths, load_config

    paths = HubPaths(Path(data_dir))
    if not paths.config.exists():
        return None
    try:
        http = load_config(paths).http
    except ConfigError as exc:
        raise BrokerError(str(exc), str(exc)) from exc
    if not http.use_tls:
        return None
    host = f"[{settings.mqtt_host}]" if ":" in settings.mqtt_host else settings.mqtt_host
    return f"https://{host}:{http.port}/updates/v1/"


# --- the running broker -------------------------------------------------------------------------------


def mosquitto_binary() -> str | None:
    """Path of the mosquitto executable (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((c for c in MOSQUITTO_CANDIDATES if os.access(c, os.X_OK)), None)


def mosquitto_command(data_dir: Path) -> list[str]:
    """The command line that runs this hub's broker in the foreground."""
    binary = mosquitto_binary()
    if binary is None:
        raise BrokerError(
            "Mosquitto est introuvable (installez le paquet `mosquitto`)",
            "Mosquitto not found (install the `mosquitto` package)",
        )
    return [binary, "-c", str(_paths(data_dir).conf)]


def broker_pid(data_dir: Path) -> int | None:
    """The pid of this hub's running broker, from its pid file, if that process is a live mosquitto."""
    try:
        pid = int(_paths(data_dir).pid_file.read_text().strip())
    except (FileNotFoundError, PermissionError, ValueError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return None
    except OSError:
        comm = "mosquitto"  # no procfs details: trust the pid file
    return pid if comm == "mosquitto" else None


def reload_broker(data_dir: Path) -> bool:
    """SIGHUP the running broker so it rereads passwd and acl. False when it is not running (it reads
    them when it starts) or when we may not signal it. The reload is asynchronous."""
    pid = broker_pid(data_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except (ProcessLookupError, PermissionError):
        return False
    return True
