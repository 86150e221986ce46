"""`fidelio-kiosk --config FILE`: the kiosk, headless for now: card taps and staff commands from stdin.

Commands, one a line: `tap CARD`, `enrol CARD [first name]`, `buy CARD CENTS`, `redeem CARD REWARD`.
A bare card token is a tap. The touchscreen app replaces this front end; the link and wire stay the same.
`fidelio-kiosk doctor` checks the readers and the printer (see kiosk/doctor.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.provisioning import ProvisioningError, load_provisioning
from kiosk.simple_client import HubUnreachable, SimpleHubClient
from kiosk.words import describe

USAGE = (
    "tap CARTE | enrol CARTE [prénom] | buy CARTE CENTIMES | redeem CARTE RÉCOMPENSE  "
    "(CARTE = pcsc:04A1B2C3, CENTIMES = 1250 pour 12,50 €)\n"
    "tap CARD | enrol CARD [first name] | buy CARD CENTS | redeem CARD REWARD  "
    "(CARD = pcsc:04A1B2C3, CENTS = 1250 for €12.50)"
)


def _request(client: SimpleHubClient, words: list[str]) -> dict | None:
    if len(words) == 1:
        words = ["tap", *words]
    verb, card, *rest = words
    if verb == "tap":
        return client.request("tap", card)
    if verb == "enrol":
        body = {"consents": {"email": False, "sms": False}}
        if rest:
            body["first_name"] = " ".join(rest)
        return client.request("enrol", card, body)
    if verb == "buy" and rest and rest[0].isdigit() and int(rest[0]) > 0:
        return client.request("purchase", card, {"amount_cents": int(rest[0])})
    if verb == "redeem" and rest:
        return client.request("redeem", card, {"reward": rest[0]})
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["doctor"]:
        from kiosk.doctor_cli import run_doctor

        return run_doctor(argv[1:])
    parser = argparse.ArgumentParser(prog="fidelio-kiosk", description=__doc__)
    parser.add_argument(
        "--config", type=Path, required=True, help="provisioning file from 'fidelio-hub kiosk add'"
    )
    parser.add_argument("--lang", choices=("fr", "en"), default="fr")
    args = parser.parse_args(argv)
    try:
        prov = load_provisioning(args.config)
    except ProvisioningError as exc:
        print(f"fidelio-kiosk: {exc}", file=sys.stderr)
        return 2
    client = SimpleHubClient(prov)
    try:
        client.connect()
    except (HubUnreachable, OSError) as exc:
        print(f"fidelio-kiosk: hub injoignable / hub unreachable: {exc}", file=sys.stderr)
        return 1
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] in ("help", "aide", "?"):
                print(USAGE)
                continue
            try:
                reply = _request(client, words)
            except HubUnreachable as exc:
                print(f"hub injoignable / hub unreachable: {exc}")
                continue
            if reply is None:
                print(f"commande inconnue / unknown command\n{USAGE}")
                continue
            print("\n".join(describe(reply, args.lang)), flush=True)
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
