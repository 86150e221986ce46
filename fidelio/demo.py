"""`fidelio demo`: a real broker, a real hub and a scripted simulated kiosk, in one command.

Everything has an embedded default: a fresh hub in a temporary directory with the demo program, the
shop's broker on free local ports, one kiosk provisioned over TLS. The kiosk taps, enrols, buys and
redeems, and every reply is printed in words.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fidelio.contract import new_request
from hub.app import HubError, check_hub, init_hub, open_hub_service
from hub.broker import kiosk_add
from hub.broker.process import BrokerProcess, free_port
from kiosk.provisioning import load_provisioning
from kiosk.simple_client import SimpleHubClient
from kiosk.words import describe

CARD_NEW = "pcsc:04A1B2C3D4E5F6"
#: The balances the demo program uses (the others stay at zero and are not worth a word).
BALANCES_SHOWN = ("points",)


def _say(out: Callable[[str], None], title: str, reply: dict[str, Any], lang: str) -> None:
    out(f"\n▶ {title}")
    for line in describe(reply, lang, BALANCES_SHOWN):
        out(f"  {line}")


def _catalogue(client: SimpleHubClient, timeout: float = 5) -> dict[str, Any]:
    """The retained `hub/program` message, as a kiosk reads it."""
    got: dict[str, Any] = {}
    ready = threading.Event()

    def on_program(_c: Any, _u: Any, msg: Any) -> None:
        got.update(json.loads(msg.payload))
        ready.set()

    client.client.message_callback_add(client.topics.hub_program, on_program)
    client.client.subscribe(client.topics.hub_program, qos=1)
    ready.wait(timeout)
    return got


def script(client: SimpleHubClient, out: Callable[[str], None], lang: str = "fr") -> dict[str, Any]:
    """The customer journey the demo plays; returns the last member reply (for tests)."""
    fr = lang == "fr"
    _say(
        out,
        "Carte inconnue posée sur le lecteur" if fr else "Unknown card tapped",
        client.request("tap", CARD_NEW),
        lang,
    )
    enrol = client.request(
        "enrol",
        CARD_NEW,
        {"first_name": "Camille", "email": "camille@example.fr", "consents": {"email": True, "sms": False}},
    )
    _say(
        out,
        "Inscription (e-mail accepté, SMS refusé)" if fr else "Enrolment (e-mail yes, SMS no)",
        enrol,
        lang,
    )
    _say(out, "Passage en boutique" if fr else "Visit", client.request("tap", CARD_NEW), lang)
    for cents in (4250, 6800):
        reply = client.request("purchase", CARD_NEW, {"amount_cents": cents, "receipt": f"T-{cents}"})
        _say(
            out,
            f"Achat de {cents / 100:.2f} €".replace(".", ",") if fr else f"Purchase €{cents / 100:.2f}",
            reply,
            lang,
        )
    program = _catalogue(client)
    balances = reply["member"]["balances"]
    affordable = [
        r for r in program.get("rewards", []) if all(balances.get(k, 0) >= v for k, v in r["cost"].items())
    ]
    if affordable:
        reward = affordable[0]
        redeem = new_request("redeem", client.prov.kiosk, CARD_NEW, {"reward": reward["id"]})
        first = client.call(redeem)
        _say(
            out,
            f"Choix de la récompense « {reward['name'][lang]} »"
            if fr
            else f"Redeem '{reward['name'][lang]}'",
            first,
            lang,
        )
        again = client.call(redeem)
        out(
            f"\n▶ {'Même demande renvoyée (réseau instable)' if fr else 'Same request sent again (flaky network)'}"
        )
        if again != first:
            raise DemoFailed("the hub answered a repeated request differently")
        out(
            "  Réponse identique : rien n'a été appliqué deux fois."
            if fr
            else "  Identical reply: nothing was applied twice."
        )
    open_to_all = [r for r in program.get("rewards", []) if not r.get("min_tier")]
    expensive = max(open_to_all, key=lambda r: sum(r["cost"].values()), default=None)
    if expensive:
        refused = client.request("redeem", CARD_NEW, {"reward": expensive["id"]})
        title = (
            f"Récompense trop chère « {expensive['name'][lang]} »"
            if fr
            else f"Too expensive '{expensive['name'][lang]}'"
        )
        _say(out, title, refused, lang)
        balances = again["member"]["balances"] if affordable else balances
        for name, cost in expensive["cost"].items():
            if balances.get(name, 0) < cost:
                missing = cost - balances.get(name, 0)
                out(f"    (il manque {missing} {name})" if fr else f"    ({missing} {name} short)")
    last = client.request("tap", CARD_NEW)
    _say(out, "Nouveau passage le même jour" if fr else "Another visit the same day", last, lang)
    return last


class DemoFailed(RuntimeError):
    pass


def run_demo(lang: str = "fr", keep: Path | None = None, out: Callable[[str], None] = print) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    fr = lang == "fr"
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="fidelio-demo-")) if keep is None else keep
    data.chmod(0o755)
    broker = None
    service = None
    try:
        tls_port, local_port = free_port(), free_port()
        init_hub(data, "demo-boutique", mqtt_host="localhost", mqtt_port=tls_port, local_port=local_port)
        prov_file = data / "kiosk-comptoir.toml"
        kiosk_add(data, "comptoir", prov_file)
        broker = BrokerProcess(data, data / "mosquitto.log")
        broker.start()
        out(
            "Démo Fidelio : le broker de la boutique (Mosquitto, TLS), le hub et une borne « comptoir » simulée."
            if fr
            else "Fidelio demo: the shop's broker (Mosquitto, TLS), the hub and a simulated kiosk 'comptoir'."
        )
        service = open_hub_service(data)
        service.start()
        if not service.wait_connected(10):
            out("Le hub n'a pas pu joindre le broker / the hub could not reach the broker")
            return 1
        client = SimpleHubClient(load_provisioning(prov_file))
        client.connect()
        try:
            script(client, out, lang)
        except DemoFailed as exc:
            out(f"ÉCHEC / FAILED: {exc}")
            return 1
        finally:
            client.close()
        service.stop()
        service = None
        faults = check_hub(data)
        if faults:
            out(f"\nfidelio-hub check: {faults}")
            return 1
        out("\nfidelio-hub check : registre sain." if fr else "\nfidelio-hub check: the ledger is sound.")
        if keep:
            out(f"Le hub de la démo reste dans {data}" if fr else f"The demo hub stays in {data}")
        return 0
    except HubError as exc:
        out(f"fidelio demo: {exc}")
        return 2
    finally:
        if service is not None:
            service.stop()
        if broker is not None:
            broker.stop()
        if keep is None:
            shutil.rmtree(data, ignore_errors=True)
