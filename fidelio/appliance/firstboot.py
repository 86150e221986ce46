"""First boot (fidelio-firstboot.service): apply the file the installer put on the boot partition.

- `fidelio-kiosk.toml` (made by `fidelio-hub kiosk add`, optionally with [hardware] [display] [staff]
  [storage]): validated with the kiosk's own parser; moved to /data/kiosk (0600, the kiosk user's);
  hostname `<shop>-<kiosk>`; the kiosk service enabled and started.
- `fidelio-hub.toml` (fidelio/appliance/hubfile.py): `fidelio-hub --data /data/hub init --shop ID ...`,
  the hub's files given to its user (the broker's stay root:mosquitto); the hub's services enabled.
- `wifi.toml` (fidelio/appliance/wifi.py): NetworkManager's keyfile, root 0600.
- `authorized_keys` (fidelio/appliance/ssh.py): the maintainers' SSH keys; sshd turned on, keys only, for
  the admin account only, with host keys made on this device; an empty file turns SSH off again.

Every file read is removed from the boot partition (a FAT file system anyone can read on a PC), after its
content is safe on /data; a bad file is kept for diagnosis in /data/fidelio/rejected (root, 0600). A
kiosk file, even a bad one, makes the device a kiosk, so that its screen shows what is wrong. The outcome
goes to /data/fidelio/status.json (the kiosk screen shows it), /etc/issue.d (the console) and stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tomllib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from fidelio.appliance.actions import Actions, SystemActions
from fidelio.appliance.hubfile import HubFileError, parse_hub_file, program_path
from fidelio.appliance.layout import (
    HUB_FILE,
    HUB_UNITS,
    HUB_USER,
    KIOSK_FILE,
    KIOSK_UNITS,
    KIOSK_USER,
    KIOSKS_DIR,
    SSH_FILE,
    SSH_UNITS,
    WIFI_FILE,
    Layout,
    only_in,
)
from fidelio.appliance.ssh import (
    ADMIN_USER,
    SSHD_DROPIN,
    SshKeyError,
    authorized_keys_text,
    parse_authorized_keys,
)
from fidelio.appliance.status import Status, issue_text, write_text_atomic
from fidelio.appliance.wifi import WifiError, country_modprobe, nm_keyfile, parse_wifi

T = TypeVar("T")
REMOVED = "{name} retiré de la partition de démarrage / {name} removed from the boot partition"


class Run:
    """One first boot's progress: what was done, what went wrong, what to start at the end."""

    def __init__(self, layout: Layout, actions: Actions) -> None:
        self.layout = layout
        self.actions = actions
        self.steps: list[str] = []
        self.errors: list[str] = []
        self.role: str | None = None
        self.title: tuple[str, str] | None = None
        self.to_start: list[str] = []


def kiosk_hostname(shop: str, kiosk: str) -> str:
    return f"{shop}-{kiosk}"[:63].rstrip("-")


def hosts_with(text: str, hostname: str) -> str:
    """/etc/hosts with this machine's name on 127.0.1.1 (Debian's convention), other lines kept."""
    lines = [line for line in text.splitlines() if not line.startswith("127.0.1.1")]
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("127.0.0.1")), 0)
    lines.insert(at, f"127.0.1.1\t{hostname}")
    return "\n".join(lines) + "\n"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_from_boot(run: Run, source: Path) -> None:
    source.unlink()
    _fsync_dir(source.parent)
    run.steps.append(REMOVED.format(name=source.name))


def _reject(run: Run, source: Path, text: str) -> None:
    """Keep a bad file for diagnosis (root only: it may hold a password), off the boot partition."""
    write_text_atomic(run.layout.rejected / source.name, text, 0o600)
    _remove_from_boot(run, source)
    run.steps.append(f"copie gardée dans {run.layout.rejected} / copy kept in {run.layout.rejected}")


def _read(run: Run, source: Path) -> str | None:
    try:
        return source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        run.errors.append(
            f"{source.name} : ce n'est pas un fichier texte (UTF-8) / {source.name}: not a text file (UTF-8)"
        )
        raw = source.read_bytes().decode("utf-8", errors="replace")
        _reject(run, source, raw)
        return None


def _set_hostname(run: Run, hostname: str) -> None:
    run.actions.set_hostname(hostname)
    hosts = run.layout.hosts
    current = hosts.read_text(encoding="utf-8") if hosts.exists() else "127.0.0.1\tlocalhost\n"
    write_text_atomic(hosts, hosts_with(current, hostname), 0o644)
    run.steps.append(f"nom de la machine : {hostname} / hostname: {hostname}")


def _chown_tree(path: Path, ids: tuple[int, int], skip: Iterable[str] = ()) -> None:
    skipped = set(skip)
    os.chown(path, *ids)
    if path.is_dir():
        for child in path.iterdir():
            if child.name not in skipped:
                _chown_tree(child, ids)


def _parsed(run: Run, source: Path, parse: Callable[[str], T], refused: type[Exception]) -> T | None:
    """The file read and parsed; None when it cannot be (said in `run.errors`, the file set aside)."""
    text = _read(run, source)
    if text is None:
        return None
    try:
        return parse(text)
    except refused as exc:
        run.errors.append(str(exc))
        _reject(run, source, text)
        return None


def apply_wifi(run: Run, source: Path) -> None:
    wifi = _parsed(run, source, parse_wifi, WifiError)
    if wifi is None:
        return
    layout = run.layout
    # NetworkManager ignores a keyfile that is not root's with mode 0600
    write_text_atomic(layout.wifi_keyfile, nm_keyfile(wifi), 0o600)
    write_text_atomic(layout.wifi_country, country_modprobe(wifi), 0o644)
    run.steps.append(
        f"Wi-Fi « {wifi.ssid} » ({wifi.country}) configuré / Wi-Fi '{wifi.ssid}' ({wifi.country}) set up"
    )
    _remove_from_boot(run, source)


def apply_ssh(run: Run, source: Path) -> None:
    keys = _parsed(run, source, parse_authorized_keys, SshKeyError)
    if keys is None:
        return
    layout = run.layout
    if not keys:
        layout.authorized_keys(ADMIN_USER).unlink(missing_ok=True)
        layout.sshd_dropin.unlink(missing_ok=True)
        run.actions.disable(list(SSH_UNITS))
        run.steps.append("accès SSH fermé (au prochain démarrage) / SSH access closed (from the next start)")
    else:
        write_text_atomic(layout.authorized_keys(ADMIN_USER), authorized_keys_text(keys), 0o644)
        write_text_atomic(layout.sshd_dropin, SSHD_DROPIN, 0o644)
        run.actions.ssh_host_keys(layout.root)
        run.actions.enable(list(SSH_UNITS))
        run.to_start.extend(SSH_UNITS)
        prints = ", ".join(key.fingerprint() for key in keys)
        run.steps.append(
            f"accès SSH de maintenance pour « {ADMIN_USER} », par clé seulement : {prints} / "
            f"maintenance SSH access for '{ADMIN_USER}', keys only: {prints}"
        )
    _remove_from_boot(run, source)


def apply_kiosk(run: Run, source: Path) -> None:
    from kiosk.config import KioskConfigError, parse_kiosk_config

    run.role = "kiosk"
    # the kiosk service runs even with a bad file: its screen shows what is wrong
    run.actions.disable(only_in(HUB_UNITS, KIOSK_UNITS))
    run.actions.enable(list(KIOSK_UNITS))
    run.to_start += KIOSK_UNITS
    text = _read(run, source)
    if text is None:
        return
    try:
        config = parse_kiosk_config(tomllib.loads(text), Path(KIOSK_FILE))
    except tomllib.TOMLDecodeError as exc:
        run.errors.append(f"{KIOSK_FILE} : TOML invalide / invalid TOML ({exc})")
    except KioskConfigError as exc:
        run.errors.append(str(exc))
    if run.errors:
        _reject(run, source, text)
        return
    prov = config.provisioning
    layout = run.layout
    uid_gid = run.actions.ids(KIOSK_USER)
    for directory in (layout.kiosk_data, layout.kiosk_data / "state", layout.kiosk_data / "kivy"):
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        os.chown(directory, *uid_gid)
    write_text_atomic(layout.kiosk_config, text, 0o600)
    os.chown(layout.kiosk_config, *uid_gid)
    run.steps.append(
        f"identifiants de la borne dans {layout.kiosk_config} (0600) / kiosk credentials in {layout.kiosk_config} (0600)"
    )
    _remove_from_boot(run, source)
    _set_hostname(run, kiosk_hostname(prov.shop, prov.kiosk))
    run.title = (
        f"Borne « {prov.kiosk} » de « {prov.shop} » configurée ; elle rejoint le hub {prov.host}.",
        f"Kiosk '{prov.kiosk}' of '{prov.shop}' set up; it joins the hub {prov.host}.",
    )


def apply_hub(run: Run, source: Path) -> None:
    run.role = "hub"
    text = _read(run, source)
    if text is None:
        return
    layout = run.layout
    try:
        hub = parse_hub_file(text)
        program = program_path(hub, layout.boot, layout.examples)
    except HubFileError as exc:
        run.errors.append(str(exc))
        _reject(run, source, text)
        return
    existing = existing_shop(layout)
    if existing is not None and existing != hub.shop:
        run.errors.append(
            f"cette carte porte déjà le hub de « {existing} », pas de « {hub.shop} » : rien n'a changé / "
            f"this card already holds the hub of '{existing}', not of '{hub.shop}': nothing changed"
        )
        _remove_from_boot(run, source)
        return
    if existing is None:
        _set_hostname(run, hub.hostname)
        argv = ["--data", str(layout.hub_data), "init", "--shop", hub.shop, "--mqtt-host", hub.mqtt_host]
        if program is not None:
            argv += ["--program", str(program)]
        code, output = run.actions.hub_cli(argv)
        if code != 0:
            _remove_from_boot(run, source)
            run.errors += _lines(output) or [f"init: exit {code}"]
            return
        run.steps.append(f"hub créé dans {layout.hub_data} / hub created in {layout.hub_data}")
    _remove_from_boot(run, source)
    if hub.admin is not None:
        _add_admin(run, *hub.admin)
    _add_kiosks(run, hub.kiosks, skip=known_kiosks(layout))
    # the broker's files and the kiosk registry stay root:mosquitto (hub/broker/files.py; the hub
    # service reads them through its group); the rest is the hub service's
    _chown_tree(layout.hub_data, run.actions.ids(HUB_USER), skip=("mosquitto", "kiosks.json"))
    run.actions.disable(only_in(KIOSK_UNITS, HUB_UNITS))
    run.actions.enable(list(HUB_UNITS))
    run.to_start += HUB_UNITS
    run.title = (
        f"Hub « {hub.shop} » configuré ; les bornes le joignent à {hub.mqtt_host}.",
        f"Hub '{hub.shop}' set up; kiosks reach it at {hub.mqtt_host}.",
    )


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def existing_shop(layout: Layout) -> str | None:
    """The shop of the hub already on this card, if any."""
    try:
        return tomllib.loads((layout.hub_data / "config.toml").read_text(encoding="utf-8")).get("shop")
    except (OSError, tomllib.TOMLDecodeError):
        return None


def known_kiosks(layout: Layout) -> set[str]:
    """Kiosks the hub has now (revoked ones excepted)."""
    try:
        rows = json.loads((layout.hub_data / "kiosks.json").read_text(encoding="utf-8"))["kiosks"]
    except (OSError, ValueError, KeyError):
        return set()
    return {row["id"] for row in rows if not row.get("revoked_at")}


def _add_admin(run: Run, name: str, password: str) -> None:
    code, listed = run.actions.hub_cli(["--data", str(run.layout.hub_data), "user", "list"])
    if code == 0 and name in {line.split("\t")[0] for line in listed.splitlines()}:
        return  # the same file put back: the account is there already
    argv = ["--data", str(run.layout.hub_data), "user", "add", name, "--role", "admin", "--password-stdin"]
    code, output = run.actions.hub_cli(argv, stdin=password + "\n")
    if code == 0:
        run.steps.append(f"compte admin « {name} » du site créé / staff web admin '{name}' created")
    else:
        run.errors += _lines(output) or [f"user add: exit {code}"]


def _add_kiosks(run: Run, kiosks: tuple[str, ...], skip: set[str]) -> None:
    """The kiosks the hub file lists, their files on this card's boot partition for the installer to
    copy onto each kiosk's card. They hold the kiosks' broker passwords, on the hub's own card, beside
    the hub's ledger and keys, which /data holds unencrypted: no new exposure; the guide has the
    installer delete the folder once the kiosks are set up."""
    kiosks = tuple(k for k in kiosks if k not in skip)
    if not kiosks:
        return
    out = run.layout.boot / KIOSKS_DIR
    out.mkdir(exist_ok=True)
    made = run.layout.state / "kiosks"  # `kiosk add` sets modes, which a FAT file system refuses
    made.mkdir(mode=0o700, exist_ok=True)
    for kiosk in kiosks:
        target = made / f"{kiosk}.toml"
        target.unlink(missing_ok=True)
        code, output = run.actions.hub_cli(
            ["--data", str(run.layout.hub_data), "kiosk", "add", kiosk, "--out", str(target)]
        )
        if code != 0:
            run.errors += [line for line in output.splitlines() if line.strip()] or [
                f"kiosk add: exit {code}"
            ]
        else:
            shutil.copyfile(target, out / f"{kiosk}.toml")
            target.unlink()
            run.steps.append(
                f"borne {kiosk} : fichier {KIOSKS_DIR}/{kiosk}.toml sur la partition de démarrage / "
                f"kiosk {kiosk}: file {KIOSKS_DIR}/{kiosk}.toml on the boot partition"
            )
    _fsync_dir(out)


def _error_title(role: str | None) -> tuple[str, str]:
    where = "la partition « bootfs » de la carte SD"
    if role == "kiosk":
        return (
            f"Le fichier de la borne est refusé. Recopiez sur {where} le fichier fait par "
            "« fidelio-hub kiosk add », puis redémarrez.",
            "The kiosk's file was refused. Copy the file made by 'fidelio-hub kiosk add' to the SD card's "
            "'bootfs' partition again, then restart.",
        )
    return (
        f"La configuration a échoué. Corrigez le fichier, recopiez-le sur {where}, puis redémarrez.",
        "Setting up failed. Fix the file, copy it to the SD card's 'bootfs' partition again, then restart.",
    )


def run_firstboot(layout: Layout, actions: Actions, now: datetime | None = None) -> Status:
    run = Run(layout, actions)
    layout.state.mkdir(parents=True, exist_ok=True, mode=0o755)
    present = {name: layout.on_boot(name) for name in (KIOSK_FILE, HUB_FILE, WIFI_FILE, SSH_FILE)}
    present = {name: path for name, path in present.items() if path.is_file()}
    if WIFI_FILE in present:
        apply_wifi(run, present[WIFI_FILE])
    if SSH_FILE in present:
        apply_ssh(run, present[SSH_FILE])
    if KIOSK_FILE in present and HUB_FILE in present:
        run.errors.append(
            f"{KIOSK_FILE} et {HUB_FILE} sont tous deux présents : une carte est soit une borne, soit un hub / "
            f"both {KIOSK_FILE} and {HUB_FILE} are present: a card is either a kiosk or a hub"
        )
        for name in (KIOSK_FILE, HUB_FILE):
            _reject(run, present[name], present[name].read_text(encoding="utf-8", errors="replace"))
    elif KIOSK_FILE in present:
        apply_kiosk(run, present[KIOSK_FILE])
    elif HUB_FILE in present:
        apply_hub(run, present[HUB_FILE])
    else:  # Wi-Fi or SSH only: the device keeps the role it had
        run.role = layout.role.read_text().strip() if layout.role.exists() else None
    ok = not run.errors
    settings = (
        ("Wi-Fi configuré.", "Wi-Fi set up.")
        if WIFI_FILE in present
        else ("Réglages appliqués.", "Settings applied.")
    )
    title = (run.title or settings) if ok else _error_title(run.role)
    status = Status(
        ok=ok,
        role=run.role,
        title_fr=title[0],
        title_en=title[1],
        details=run.errors,
        steps=run.steps,
        at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )
    if run.role:
        write_text_atomic(layout.role, run.role + "\n", 0o644)
    write_text_atomic(layout.status, status.to_json(), 0o644)  # no secret in it: the kiosk user reads it
    write_text_atomic(layout.issue, issue_text(status), 0o644)
    actions.start(run.to_start)  # last: the kiosk's screen reads the status just written
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fidelio-firstboot", description=__doc__.split("\n")[0])
    parser.add_argument("--boot", type=Path, default=Layout.boot, help="the boot partition")
    parser.add_argument("--root", type=Path, default=Layout.root, help="the system's root")
    parser.add_argument("--examples", type=Path, default=Layout.examples, help="example programs")
    args = parser.parse_args(argv)
    status = run_firstboot(Layout(args.boot, args.root, args.examples), SystemActions())
    for line in status.lines():
        print(f"fidelio-firstboot: {line}", flush=True)
    return 0 if status.ok else 1


if __name__ == "__main__":
    sys.exit(main())
