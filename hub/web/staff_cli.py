"""`fidelio-hub user …` and `fidelio-hub apikey …`: accounts and keys, straight in the ledger database.

Each is one short transaction; with the hub running it waits for the writer's lock (busy timeout)
rather than racing it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from hub.config import HubPaths
from hub.ledger import open_database
from hub.ledger.schema import transaction
from hub.web.accounts import AccountError, add_user, check_password, list_users, remove_user
from hub.web.apikeys import ApiKeyError, add_key, list_keys, parse_scopes, revoke_key
from hub.web.audit import Actor, record

CLI = Actor("cli:fidelio-hub")


def _now() -> datetime:
    return datetime.now(UTC)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mot de passe / password: ")
    check_password(first)
    if getpass.getpass("Encore une fois / again: ") != first:
        raise AccountError("Les deux saisies diffèrent / the two entries differ")
    return first


def user_command(data: Path, args: argparse.Namespace) -> int:
    db = open_database(HubPaths(data).ledger)
    conn = db.conn
    try:
        if args.user_command == "add":
            password = _read_password(args.password_stdin)
            with transaction(conn):
                user = add_user(conn, args.name, args.role, password, _now())
                record(conn, _iso(), CLI, "user.add", user.name, {"role": user.role})
            print(f"Compte {user.name} ({user.role}) créé / account {user.name} ({user.role}) created")
        elif args.user_command == "list":
            for name, role, created in list_users(conn):
                print(f"{name}\t{role}\tcreated {created}")
        else:
            with transaction(conn):
                remove_user(conn, args.name)
                record(conn, _iso(), CLI, "user.remove", args.name)
            print(f"Compte {args.name} supprimé / account {args.name} removed")
        return 0
    except AccountError as exc:
        print(f"fidelio-hub: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()


def apikey_command(data: Path, args: argparse.Namespace) -> int:
    db = open_database(HubPaths(data).ledger)
    conn = db.conn
    try:
        if args.apikey_command == "add":
            scopes = parse_scopes(args.scope)
            with transaction(conn):
                key = add_key(conn, args.name, scopes, _now())
                record(conn, _iso(), CLI, "apikey.add", args.name.strip().lower(), {"scopes": scopes})
            print(
                f"Clé {args.name} ({', '.join(scopes)}) — notez-la, elle ne sera plus affichée / "
                f"key {args.name} ({', '.join(scopes)}) — note it, it will not be shown again:",
                file=sys.stderr,
            )
            print(key)
        elif args.apikey_command == "list":
            for name, scopes, created, revoked in list_keys(conn):
                state = f"revoked {revoked}" if revoked else "active"
                print(f"{name}\t{scopes}\tcreated {created}\t{state}")
        else:
            with transaction(conn):
                revoke_key(conn, args.name, _now())
                record(conn, _iso(), CLI, "apikey.revoke", args.name)
            print(f"Clé {args.name} révoquée / key {args.name} revoked")
        return 0
    except ApiKeyError as exc:
        print(f"fidelio-hub: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()


def _iso() -> str:
    from hub.ledger import iso

    return iso(_now())
