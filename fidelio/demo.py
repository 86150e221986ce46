"""`fidelio demo`: the shop's broker, the hub and the real kiosk app, in one command.

Everything has an embedded default: a fresh hub in a temporary directory with the demo program, the
shop's broker on free local ports, one kiosk provisioned over TLS with a simulated reader (on-screen
"tap a card" buttons) and a simulated printer (the voucher as a PNG on screen and on disk). On a machine
with a display the touchscreen app opens; without one the demo says so and plays the same kiosk headless:
a customer enrols, staff record two purchases, the customer takes a voucher, the network goes down and
comes back, and every screen is printed in words.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

from hub.app import HubError, check_hub, init_hub, open_hub_service
from hub.broker import kiosk_add
from hub.broker.process import BrokerProcess, free_port
from kiosk.app import build_kiosk
from kiosk.config import parse_kiosk_config
from kiosk.run import has_display, run_headless, run_screen

CARD_NEW = "pcsc:04A1B2C3D4E5F6"
CARD_STAFF = "pcsc:5AFF0001"
STAFF_PIN = "1234"
DEMO_CARDS = {"Nouvelle carte / New card": CARD_NEW, "Carte personnel / Staff card": CARD_STAFF}


class DemoFailed(RuntimeError):
    pass


def _kiosk_config(data: Path, prov_file: Path, lang: str) -> dict:
    raw = tomllib.loads(prov_file.read_text(encoding="utf-8"))
    raw["display"] = {"shop_name": "Boutique de démonstration", "lang": lang}
    raw["staff"] = {"pin": STAFF_PIN, "cards": [CARD_STAFF]}
    raw["storage"] = {"dir": str(data / "kiosk")}
    raw["hardware"] = {
        "readers": [{"kind": "simulated"}],
        "printer": {"kind": "simulated", "out_dir": str(data / "vouchers")},
    }
    return raw


def _journey(broker: BrokerProcess, say: Callable[[str], None], fr: bool) -> Iterator[str]:
    """What the demo's customer and staff do, as the commands a person would type (see kiosk/headless.py)."""

    def part(fr_text: str, en_text: str) -> None:
        say(f"\n▶ {fr_text if fr else en_text}")

    part("Une carte inconnue est posée sur le lecteur", "An unknown card is tapped")
    yield f"tap {CARD_NEW}"
    part("La cliente s'inscrit : e-mail accepté, SMS refusé", "She joins: e-mail yes, SMS no")
    yield "enrol"
    yield "consent email"
    yield "next"
    yield "details first=Camille email=camille@example.fr"
    yield "finish"
    part("Le personnel enregistre deux achats (code 1234)", "Staff record two purchases (PIN 1234)")
    yield "staff"
    yield f"pin {STAFF_PIN}"
    for cents in (4250, 6800):
        yield f"amount {cents}"
        yield f"tap {CARD_NEW}"
        yield "back"
    yield "exit"
    part("Passage suivant : solde, statut et récompenses", "Next visit: balance, tier and rewards")
    yield f"tap {CARD_NEW}"
    yield "rewards"
    yield "choose bon-5"
    part("Elle choisit « Bon de 5 € » : le bon s'imprime", "She picks the '5 € voucher': it prints")
    yield "confirm"
    yield "finish"
    part("Le réseau tombe : la borne continue", "The network goes down: the kiosk keeps working")
    broker.stop()
    yield f"tap {CARD_NEW}"
    yield "rewards"
    yield "finish"
    part(
        "Le réseau revient : le passage en attente est transmis, une seule fois",
        "The network is back: the queued visit is sent, once",
    )
    broker.start()
    yield "wait drained"
    yield f"tap {CARD_NEW}"
    yield "finish"
    yield "wait drained"


def run_demo(
    lang: str = "fr",
    keep: Path | None = None,
    out: Callable[[str], None] = print,
    headless: bool | None = None,
) -> int:
    # the demo speaks in words; the services' own logs (reconnects...) would only add noise here
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s", force=True)
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
        service = open_hub_service(data)
        service.start()
        if not service.wait_connected(10):
            out("Le hub n'a pas pu joindre le broker / the hub could not reach the broker")
            return 1
        runtime = build_kiosk(parse_kiosk_config(_kiosk_config(data, prov_file, lang), prov_file))
        screen = has_display() if headless is None else not headless
        out(
            "Démo Fidelio : le broker de la boutique (Mosquitto, TLS), le hub et la borne « comptoir »."
            if fr
            else "Fidelio demo: the shop's broker (Mosquitto, TLS), the hub and the kiosk 'comptoir'."
        )
        if screen:
            out(
                "Touchez « Nouvelle carte » pour commencer ; code personnel 1234. Fermez la fenêtre pour finir."
                if fr
                else "Touch 'New card' to begin; staff PIN 1234. Close the window to finish."
            )
            run_screen(runtime, DEMO_CARDS)
        else:
            out(
                "Pas d'écran ici : la démo joue le parcours avec la même borne, en mode texte."
                if fr
                else "No display here: the demo plays the journey on the same kiosk, as text."
            )
            last = run_headless(runtime, _journey(broker, out, fr), lambda s: out(f"  {s}"))
            vouchers = sorted((data / "vouchers").glob("*.png"))
            if not vouchers:
                raise DemoFailed("no voucher was printed")
            if keep is not None:
                out(f"\n🖨  {'Bon imprimé (aperçu)' if fr else 'Voucher printed (preview)'} : {vouchers[-1]}")
            else:
                out(
                    f"\n🖨  Bon imprimé ({vouchers[-1].name}) ; --keep DOSSIER garde son aperçu PNG."
                    if fr
                    else f"\n🖨  Voucher printed ({vouchers[-1].name}); --keep DIR keeps its PNG preview."
                )
            if last.queue or not last.online:
                raise DemoFailed(f"the kiosk ended offline or with {last.queue} requests still queued")
        service.stop()
        service = None
        faults = check_hub(data)
        if faults:
            out(f"\nfidelio-hub check: {faults}")
            return 1
        out(
            "\nfidelio-hub check : registre sain, rien n'a été appliqué deux fois."
            if fr
            else "\nfidelio-hub check: the ledger is sound, nothing was applied twice."
        )
        if keep:
            out(f"Le hub de la démo reste dans {data}" if fr else f"The demo hub stays in {data}")
        return 0
    except DemoFailed as exc:
        out(f"ÉCHEC / FAILED: {exc}")
        return 1
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
