"""`fidelio-hub`: the hub's command line (DESIGN §3b). Thin: every command calls the library."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from hub.app import HubError, check_hub, init_hub, open_hub
from hub.broker import BrokerError, kiosk_add, kiosk_list, kiosk_revoke
from hub.program import ProgramError, load_program

log = logging.getLogger("fidelio.hub")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fidelio-hub", description="Fidelio hub: ledger, broker, service.")
    p.add_argument("--data", type=Path, help="the hub's data directory")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create a new hub in --data")
    init.add_argument("--shop", required=True, help="shop id: lower-case letters, digits, dashes")
    init.add_argument("--program", type=Path, help="the loyalty program (TOML); default: the demo program")
    init.add_argument(
        "--mqtt-host", help="the name kiosks use to reach the hub (default: this machine's name)"
    )
    init.add_argument("--mqtt-port", type=int, default=8883, help="the broker's TLS port (default 8883)")
    init.add_argument("--http-port", type=int, default=8443, help="staff web and API port (default 8443)")
    init.add_argument(
        "--local-port",
        type=int,
        default=1883,
        help="the broker's plain listener on 127.0.0.1, for the hub service only (default 1883)",
    )

    kiosk = sub.add_parser("kiosk", help="kiosks: add, list, revoke")
    ksub = kiosk.add_subparsers(dest="kiosk_command", required=True)
    add = ksub.add_parser("add", help="add a kiosk and write its provisioning file")
    add.add_argument("id")
    add.add_argument("--out", type=Path, required=True)
    ksub.add_parser("list", help="list kiosks")
    rev = ksub.add_parser("revoke", help="revoke a kiosk's broker access")
    rev.add_argument("id")

    user = sub.add_parser("user", help="staff accounts of the web: add, list, remove")
    usub = user.add_subparsers(dest="user_command", required=True)
    uadd = usub.add_parser("add", help="add a staff account (the password is asked for)")
    uadd.add_argument("name")
    uadd.add_argument("--role", choices=("staff", "manager", "admin"), required=True)
    uadd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    usub.add_parser("list", help="list staff accounts")
    urem = usub.add_parser("remove", help="remove a staff account and end its sessions")
    urem.add_argument("name")

    apikey = sub.add_parser("apikey", help="API keys of integrations (POS, web shop): add, list, revoke")
    asub = apikey.add_subparsers(dest="apikey_command", required=True)
    aadd = asub.add_parser("add", help="make a key; it is shown once")
    aadd.add_argument("name")
    aadd.add_argument("--scope", required=True, help="comma-separated: lookup, purchase, vouchers, redeem")
    asub.add_parser("list", help="list keys (never the secrets)")
    arev = asub.add_parser("revoke", help="revoke a key")
    arev.add_argument("name")

    webhook = sub.add_parser(
        "webhook", help="signed webhooks (HMAC-SHA256) of applied events: add, list, remove"
    )
    wsub = webhook.add_subparsers(dest="webhook_command", required=True)
    wadd = wsub.add_parser("add", help="add an endpoint; its signing secret is shown once")
    wadd.add_argument("url", help="https://…, or http://127.0.0.1:… for a receiver on this machine")
    wadd.add_argument("--events", required=True, help="comma-separated event types, e.g. purchase,redeem")
    wsub.add_parser("list", help="list endpoints (never the secrets)")
    wrem = wsub.add_parser("remove", help="remove an endpoint")
    wrem.add_argument("id")

    sub.add_parser("run", help="run the hub service, the staff web and the HTTP API")
    sub.add_parser("check", help="check the ledger: integrity and projection == fold of postings")
    backup = sub.add_parser("backup", help="an online, checked copy of the ledger; keeps the last N")
    backup.add_argument("--keep", type=int, default=7, help="how many backups to keep (default 7)")
    backup.add_argument("--to", type=Path, help="where to write them (default: DIR/backups)")

    from hub.update_cli import add_update_parser

    add_update_parser(sub)

    prog = sub.add_parser("program", help="loyalty program tools")
    psub = prog.add_subparsers(dest="program_command", required=True)
    pcheck = psub.add_parser("check", help="validate a program file")
    pcheck.add_argument("file", type=Path)
    return p


def _need_data(args: argparse.Namespace) -> Path:
    if args.data is None:
        raise HubError("--data DIR est requis / --data DIR is required")
    return args.data


def _run(data: Path) -> int:
    from hub.service.logs import setup_logging

    setup_logging()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    hub = open_hub(data)
    endpoint = hub.service.endpoint
    log.info("hub starting", extra={"data": str(data), "broker": f"{endpoint.host}:{endpoint.port}"})
    return hub.run_until(stop)


def _webhook(data: Path, args: argparse.Namespace) -> int:
    from hub.config import HubPaths
    from hub.webhooks import WebhookError, add_endpoint, load_endpoints, remove_endpoint

    root = HubPaths(data).root
    try:
        if args.webhook_command == "add":
            endpoint = add_endpoint(root, args.url, args.events)
            print(f"Webhook {endpoint.id} ajouté / added: {endpoint.url} ({', '.join(endpoint.events)})")
            print(
                f"Secret de signature (affiché une seule fois) / signing secret (shown once): {endpoint.secret}"
            )
        elif args.webhook_command == "list":
            for e in load_endpoints(root):
                print(f"{e.id}\t{e.url}\t{','.join(e.events)}\tadded {e.added_at}")
        else:
            remove_endpoint(root, args.id)
            print(f"Webhook {args.id} supprimé / removed")
    except WebhookError as exc:
        print(f"fidelio-hub: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "program":
            try:
                program = load_program(args.file.read_text(encoding="utf-8"), str(args.file))
            except FileNotFoundError:
                print(f"{args.file}: fichier introuvable / file not found", file=sys.stderr)
                return 2
            except ProgramError as exc:
                print(str(exc), file=sys.stderr)
                return 1
            print(
                f"{args.file}: programme valide / valid program ({program.shop_name}, sha256 {program.sha256[:12]})"
            )
            return 0
        data = _need_data(args)
        if args.command == "init":
            print(
                init_hub(
                    data,
                    args.shop,
                    program_file=args.program,
                    mqtt_host=args.mqtt_host,
                    mqtt_port=args.mqtt_port,
                    http_port=args.http_port,
                    local_port=args.local_port,
                )
            )
            return 0
        if args.command == "kiosk":
            if args.kiosk_command == "add":
                info = kiosk_add(data, args.id, args.out)
                print(
                    f"Borne {args.id} ajoutée ; fichier de provisionnement : {args.out} / "
                    f"kiosk {args.id} added; provisioning file: {args.out} (user {info['username']})"
                )
            elif args.kiosk_command == "list":
                for k in kiosk_list(data):
                    state = f"revoked {k['revoked_at']}" if k.get("revoked_at") else "active"
                    print(f"{k['id']}\t{k['username']}\tadded {k['added_at']}\t{state}")
            else:
                kiosk_revoke(data, args.id)
                print(f"Borne {args.id} révoquée / kiosk {args.id} revoked")
            return 0
        if args.command == "user":
            from hub.web.staff_cli import user_command

            return user_command(data, args)
        if args.command == "apikey":
            from hub.web.staff_cli import apikey_command

            return apikey_command(data, args)
        if args.command == "webhook":
            return _webhook(data, args)
        if args.command == "update":
            from hub.update_cli import update_command

            return update_command(data, args)
        if args.command == "backup":
            from hub.backup import BackupError, backup_ledger
            from hub.restore import write_last_run

            try:
                result = backup_ledger(data, to=args.to, keep=args.keep)
            except BackupError as exc:
                write_last_run(data, {"ok": False, "error": str(exc), "keep": args.keep})
                print(f"fidelio-hub: {exc}", file=sys.stderr)
                return 1
            write_last_run(data, {"ok": True, "file": result.path.name, "events": result.events,
                                  "keep": args.keep})  # fmt: skip
            print(f"Sauvegarde / backup: {result.path} ({result.events} events)")
            for old in result.removed:
                print(f"  supprimée / removed: {old}")
            return 0
        if args.command == "check":
            faults = check_hub(data)
            if faults:
                for fault in faults:
                    print(f"FAULT: {fault}", file=sys.stderr)
                return 1
            print("ok: registre sain / ledger sound")
            return 0
        return _run(data)
    except (HubError, BrokerError, ProgramError, OSError) as exc:
        print(f"fidelio-hub: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
