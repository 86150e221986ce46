"""`fidelio-update`: release bundles (make, check) and the device's updater (apply, auto, rollback).

On a device it runs as root from `fidelio-update.service` (the timer's `auto`), or by hand.
Exit status: 0 done or nothing to do, 1 refused / failed / rolled back, 2 usage, 75 try again later
(the hub could not be asked, or the kiosk was in use: the release is kept ready for the next run).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import importlib.metadata
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fidelio.update.apply import ROLES, Updater
from fidelio.update.bundle import build_bundle, manifest_summary, open_bundle, this_platform, this_python
from fidelio.update.errors import UpdateError
from fidelio.update.keys import (
    DEFAULT_KEYS_DIR,
    TrustedKey,
    generate_key,
    load_private_key,
    load_trusted_keys,
)
from fidelio.update.releases import DEFAULT_ROOT, ReleaseDir
from fidelio.update.services import Systemd
from fidelio.update.sources import HubSource, LocalHubSource, Source
from fidelio.update.state import DEFAULT_STATE, StateFile, now_iso

DEFAULT_DATA = Path("/data")
#: EX_TEMPFAIL: the hub could not be asked; the unit counts it as a success (SuccessExitStatus=75)
EXIT_TRY_LATER = 75
#: a kiosk's downloads, on /data (root's), one bundle at a time
DOWNLOADS = "fidelio/updates"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fidelio-update", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="where releases live (/opt/fidelio)")
    parser.add_argument("--keys", type=Path, default=DEFAULT_KEYS_DIR, help="trusted release keys (*.pub)")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="the updater's state file")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds a restarted service must stay up")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="a new release signing key (KEY, KEY.pub)")
    keygen.add_argument("key", type=Path)
    bundle = sub.add_parser("bundle", help="sign a folder of wheels into a release bundle")
    bundle.add_argument("--wheelhouse", type=Path, required=True)
    bundle.add_argument("--key", type=Path, required=True, help="the private release key")
    bundle.add_argument("--out", type=Path, required=True, help="folder for the .fidelio file")
    bundle.add_argument("--python", default=None, help="target Python X.Y (default: this one)")
    bundle.add_argument("--platform", default=None, help="target platform, e.g. linux_aarch64")
    verify = sub.add_parser("verify", help="check a bundle's signature and contents")
    verify.add_argument("bundle", type=Path)
    apply = sub.add_parser("apply", help="install a bundle here, with health check and rollback")
    apply.add_argument("bundle", type=Path)
    apply.add_argument("--role", choices=("hub", "kiosk"), help="default: first boot's role file")
    apply.add_argument("--allow-downgrade", action="store_true")
    apply.add_argument("--force", action="store_true", help="try again a version that failed here")
    apply.add_argument(
        "--now", action="store_true", help="switch at once, without waiting for the kiosk's attract screen"
    )
    auto = sub.add_parser("auto", help="what the timer runs: ask the hub (or the hub's store), apply, report")
    auto.add_argument("--data", type=Path, default=DEFAULT_DATA)
    rollback = sub.add_parser("rollback", help="back to the release before this one")
    rollback.add_argument("--role", choices=("hub", "kiosk"))
    sub.add_parser("status", help="the installed releases and the last outcome, as JSON")
    selftest = sub.add_parser(
        "selftest", help="(run by the updater inside a new release) import and say the version"
    )
    selftest.add_argument("--import", dest="modules", action="append", default=[])
    sub.add_parser("adopt", help="(image build) make the release this command belongs to the current one")
    return parser


def _role(data: Path, given: str | None) -> str:
    if given:
        return given
    try:
        role = (data / "fidelio" / "role").read_text(encoding="utf-8").strip()
    except OSError:
        role = ""
    if role not in ("hub", "kiosk"):
        raise UpdateError(
            "no_role",
            "Rôle de l'appareil inconnu (premier démarrage pas encore fait ?)",
            "The device's role is unknown (first boot not done yet?)",
        )
    return role


def _updater(args: argparse.Namespace, role: str) -> Updater:
    return Updater(ReleaseDir(args.root), Systemd(), ROLES[role], StateFile(args.state), settle_s=args.settle)


def _say(result: dict[str, Any]) -> int:
    print(json.dumps(result, ensure_ascii=False))
    print(f"{result.get('fr')} / {result.get('en')}", file=sys.stderr)
    if result["state"] == "deferred":  # someone at the kiosk: the next run switches (not a failure)
        return EXIT_TRY_LATER
    return 0 if result["state"] in ("installed", "up_to_date") else 1


def source_for(role: str, data: Path) -> Source:
    """A kiosk asks its hub (the address and credentials of its provisioning file); a hub reads its store."""
    if role == "hub":
        return LocalHubSource(data / "hub")
    from kiosk.provisioning import load_provisioning

    try:
        prov = load_provisioning(data / "kiosk" / "fidelio-kiosk.toml")
    except (OSError, ValueError) as exc:  # ProvisioningError is a ValueError
        raise UpdateError(
            "no_provisioning",
            f"Fichier de la borne illisible, pas de mise à jour : {exc}",
            f"The kiosk's file is unreadable, no update: {exc}",
        ) from exc
    host = f"[{prov.host}]" if ":" in prov.host else prov.host  # an IPv6 address
    url = prov.updates_url or f"https://{host}:8443/updates/v1/"  # files made before [updates] existed
    return HubSource(url, prov.username, prov.password, prov.ca)


def run_auto(
    updater: Updater, source: Source, keys: list[TrustedKey], downloads: Path
) -> dict[str, Any] | None:
    """One timer run: finish an interrupted update, ask for the target, apply it, report. None: no target."""
    updater.recover(updater.state_file.load())
    running = updater.releases.current().version
    target = source.target(this_python(), this_platform())
    if target.version is None:
        return None
    if target.problem:
        result = {"state": "refused", "version": target.version, **target.problem}
    elif target.version == running:
        result = {
            "state": "up_to_date",
            "version": running,
            "code": "up_to_date",
            "fr": f"Déjà en version {running}",
            "en": f"Already at version {running}",
        }
    else:
        try:
            path = source.fetch(target, downloads)
            result = updater.apply(open_bundle(path, keys), allow_downgrade=target.allow_downgrade)
        except UpdateError as exc:
            result = {"state": "failed", "version": target.version, **exc.as_dict()}
    result.setdefault("at", now_iso())
    try:
        source.report(updater.releases.current().version, result)
    except UpdateError as exc:  # the update itself is done or undone; the next run reports again
        logging.getLogger("fidelio.update").warning("report not delivered: %s", exc.en)
    return result


def _auto(args: argparse.Namespace) -> int:
    role = _role(args.data, None)
    try:
        result = run_auto(
            _updater(args, role),
            source_for(role, args.data),
            load_trusted_keys(args.keys),
            args.data / DOWNLOADS,
        )
    except UpdateError as exc:
        if exc.code != "hub_unreachable":
            raise
        # the hub off or the network down: nothing is wrong with this device; the next run asks again
        print(f"fidelio-update: {exc.fr} / {exc.en}", file=sys.stderr)
        return EXIT_TRY_LATER
    if result is None:
        print("Pas de version demandée par le hub / no version asked for by the hub", file=sys.stderr)
        return 0
    return _say(result)


def _adopt(args: argparse.Namespace) -> int:
    """Called by the image's install.sh from inside the venv it just made under releases/."""
    releases = ReleaseDir(args.root)
    here = Path(sys.prefix)
    version = importlib.metadata.version("fidelio")
    if here != releases.releases / version:
        raise UpdateError(
            "layout",
            f"{here} n'est pas {releases.releases / version}",
            f"{here} is not {releases.releases / version}",
        )
    try:
        from hub.ledger.schema import SCHEMA_VERSION as ledger_schema
    except ImportError:
        ledger_schema = None
    releases.mark(version, None, ledger_schema)
    releases.switch(version)
    print(f"Version {version} en place / release {version} in place")
    return 0


@contextlib.contextmanager
def _one_at_a_time(state: Path) -> Iterator[None]:
    """The timer's run, a manual apply and a rollback never overlap: one lock beside the state file."""
    state.parent.mkdir(parents=True, exist_ok=True)
    with open(state.with_suffix(".lock"), "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UpdateError(
                "busy",
                "Une autre mise à jour est en cours sur cet appareil",
                "Another update is running on this device",
            ) from exc
        yield


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in ("apply", "auto", "rollback"):
            with _one_at_a_time(args.state):
                return _dispatch(args)
        return _dispatch(args)
    except UpdateError as exc:
        print(f"fidelio-update: {exc.fr} / {exc.en}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "selftest":
        for module in args.modules:
            importlib.import_module(module)
        print(json.dumps({"version": importlib.metadata.version("fidelio"), "imported": args.modules}))
        return 0
    if args.command == "keygen":
        public = generate_key(args.key)
        print(public.read_text(encoding="ascii").strip())
        return 0
    if args.command == "bundle":
        out = build_bundle(
            args.wheelhouse,
            args.out,
            load_private_key(args.key),
            python=args.python,
            platform=args.platform,
        )
        print(out)
        return 0
    if args.command == "verify":
        verified = open_bundle(args.bundle, load_trusted_keys(args.keys))
        print(json.dumps({**manifest_summary(verified.manifest), "sha256": verified.sha256}))
        return 0
    if args.command == "apply":
        updater = _updater(args, _role(DEFAULT_DATA, args.role))
        verified = open_bundle(args.bundle, load_trusted_keys(args.keys))
        result = updater.apply(
            verified, allow_downgrade=args.allow_downgrade, force=args.force, even_if_busy=args.now
        )
        return _say(result)
    if args.command == "auto":
        return _auto(args)
    if args.command == "rollback":
        return _say(_updater(args, _role(DEFAULT_DATA, args.role)).rollback())
    if args.command == "status":
        releases = ReleaseDir(args.root)
        state = StateFile(args.state).load()
        print(
            json.dumps(
                {
                    "current": releases.current().version,
                    "installed": [r.version for r in releases.installed()],
                    **state.to_dict(),
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if args.command == "adopt":
        return _adopt(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
