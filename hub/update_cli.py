"""`fidelio-hub update import|list|deploy|cancel`: the hub's software updates from the command line
(the same store as the staff web's updates page, hub/updates.py), audited like the web's changes.

It runs as the hub's own user (`sudo -u fidelio fidelio-hub --data /data/hub update …`): the files it
writes are the hub service's, which must read and replace them.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from fidelio.update.errors import UpdateError
from hub.config import HubPaths
from hub.ledger import iso, open_database
from hub.ledger.schema import transaction
from hub.updates import UpdateStore
from hub.web.audit import Actor, record

CLI = Actor("cli:fidelio-hub")


def add_update_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    update = sub.add_parser(
        "update", help="software updates for the hub and its kiosks: import, list, deploy"
    )
    usub = update.add_subparsers(dest="update_command", required=True)
    imp = usub.add_parser("import", help="check a signed release bundle (.fidelio) and keep it")
    imp.add_argument("file", type=Path)
    imp.add_argument("--keys", type=Path, help="trusted release keys (default: the config's release_keys)")
    usub.add_parser("list", help="imported bundles, the deployed version, the kiosks' last reports")
    dep = usub.add_parser("deploy", help="deploy VERSION: the hub, then every kiosk, installs it")
    dep.add_argument("version")
    dep.add_argument("--allow-downgrade", action="store_true", help="let devices go back to an older version")
    usub.add_parser("cancel", help="deploy nothing any more (devices keep what they run)")
    rem = usub.add_parser("remove", help="delete an imported bundle FILE (as `update list` names it)")
    rem.add_argument("file")


def _check_user(data: Path) -> None:
    owner = data.stat().st_uid
    if os.geteuid() != owner:
        raise UpdateError(
            "wrong_user",
            f"Lancez cette commande en tant que propriétaire de {data} (uid {owner}), par exemple "
            f"« sudo -u fidelio fidelio-hub --data {data} update … » : le hub doit pouvoir lire ce qu'elle écrit",
            f"Run this command as the owner of {data} (uid {owner}), e.g. "
            f"'sudo -u fidelio fidelio-hub --data {data} update …': the hub must be able to read what it writes",
        )


def _audit(data: Path, action: str, target: str, detail: dict[str, object] | None = None) -> None:
    """One audit line; the change is made already, so a busy ledger only gets a warning."""
    try:
        db = open_database(HubPaths(data).ledger)
        try:
            with transaction(db.conn):
                record(db.conn, iso(datetime.now(UTC)), CLI, action, target, detail)
        finally:
            db.conn.close()
    except sqlite3.Error as exc:
        print(f"fidelio-hub: journal d'audit non écrit / audit log not written ({exc})", file=sys.stderr)


def update_command(data: Path, args: argparse.Namespace) -> int:
    try:
        if args.update_command != "list":
            _check_user(data)
        store = UpdateStore(data, keys_dir=getattr(args, "keys", None))
        if args.update_command == "import":
            done = store.import_file(args.file)
            m = done.bundle.manifest
            if done.already:
                print(f"Déjà importé / already imported: {m.file_name()}")
            else:
                print(
                    f"Importé / imported: {m.file_name()} (clé / key {m.key_id}, sha256 {done.bundle.sha256})"
                )
                _audit(data, "update.import", m.file_name(),
                       {"version": m.version, "python": m.python, "platform": m.platform, "key_id": m.key_id,
                        "sha256": done.bundle.sha256, "source": f"cli:{args.file.name}"})  # fmt: skip
        elif args.update_command == "list":
            _list(store)
        elif args.update_command == "deploy":
            target = store.set_target(args.version, allow_downgrade=args.allow_downgrade, set_by=CLI.id,
                                      now=datetime.now(UTC))  # fmt: skip
            back = " (retour en arrière permis / downgrade allowed)" if target["allow_downgrade"] else ""
            print(f"Version {target['version']} déployée / deployed{back}")
            _audit(data, "update.deploy", target["version"], {"allow_downgrade": target["allow_downgrade"]})
        elif args.update_command == "remove":
            row = store.remove(args.file)
            print(f"Paquet supprimé / bundle removed: {row.file}")
            _audit(data, "update.remove", row.file)
        else:
            previous = store.clear_target()
            if previous is None:
                print("Aucune version déployée / no version deployed")
                return 0
            version = previous["version"] or "?"
            print(f"Déploiement de {version} annulé / deployment of {version} cancelled")
            _audit(data, "update.cancel", version)
    except UpdateError as exc:
        print(f"fidelio-hub: {exc.fr} / {exc.en}", file=sys.stderr)
        return 1
    return 0


def _list(store: UpdateStore) -> None:
    try:
        target = store.target()
        shown = (
            f"{target['version']} (set {target['set_at']} by {target['set_by']}"
            f"{', downgrade allowed' if target['allow_downgrade'] else ''})"
            if target
            else "—"
        )
    except UpdateError as exc:
        shown = f"? ({exc.en})"
    print(f"target\t{shown}")
    for row in store.bundles():
        if row.bundle is not None:
            m = row.bundle.manifest
            print(
                f"bundle\t{m.version}\tpy{m.python}\t{m.platform}\t{m.created}\tkey {m.key_id}\t{row.size}\t{row.file}"
            )
        else:
            assert row.error is not None
            print(f"bundle\tBROKEN\t{row.file}\t{row.error.en}")
    for kiosk, report in sorted(store.reports().items()):
        result = report.get("result") or {}
        print(f"report\t{kiosk}\t{report.get('running')}\t{result.get('state')}\t{result.get('version')}\t"
              f"{report.get('received_at')}")  # fmt: skip
