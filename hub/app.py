"""The hub's composition root: the one place that wires config, program, ledger, broker and service."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from hub.broker import BrokerError, BrokerPaths, BrokerSettings, init_broker, load_settings
from hub.config import ConfigError, HubConfig, HubPaths, MqttConfig, load_config, write_config
from hub.ledger import HubClock, Ledger, LedgerOpenError, check_ledger, open_database
from hub.ledger.schema import open_read_only
from hub.program import Program, ProgramError, load_program
from hub.service import HubService
from hub.service.probe import anonymous_broker_at
from hub.service.service import MqttEndpoint
from hub.service.systemd import Notifier

if TYPE_CHECKING:  # the web's modules load only when a hub runs (not for init, check, kiosk add)
    from hub.ledger.reads import ReadConnections
    from hub.web.server import WebServer
    from hub.webhooks import WebhookDispatcher

log = logging.getLogger("fidelio.hub")


class HubError(RuntimeError):
    """A hub that cannot start or a command that cannot run; the message is in French and English."""


def demo_program_text() -> str:
    return resources.files("hub.program").joinpath("demo.toml").read_text(encoding="utf-8")


def init_hub(
    data: Path,
    shop: str,
    *,
    program_file: Path | None = None,
    mqtt_host: str | None = None,
    mqtt_port: int = 8883,
    local_port: int = 1883,
    http_port: int = 8443,
) -> str:
    """Create a hub in `data`: config, program, ledger, broker files. Returns a summary in words."""
    paths = HubPaths(data)
    if paths.config.exists() or paths.ledger.exists():
        raise HubError(
            f"{data} contient déjà un hub ; choisissez un autre dossier. / "
            f"{data} already holds a hub; choose another directory."
        )
    try:
        text = program_file.read_text(encoding="utf-8") if program_file else demo_program_text()
    except OSError as exc:
        raise HubError(f"{program_file} : lecture impossible / cannot read ({exc.strerror})") from exc
    program = load_program(text, str(program_file or "demo.toml"))
    settings_kw = {"shop": shop, "tls_port": mqtt_port, "local_port": local_port}
    if mqtt_host:
        settings_kw["mqtt_host"] = mqtt_host
    settings = BrokerSettings(**settings_kw)
    paths.root.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.root, 0o755)  # mosquitto (its own user) must reach DIR/mosquitto/
    creds = init_broker(paths.root, settings)
    write_config(
        paths,
        HubConfig(shop=shop, mqtt=MqttConfig(username=creds.username, password=creds.password),
                  http={"port": http_port}),
    )  # fmt: skip
    paths.program.write_text(text, encoding="utf-8")
    db = open_database(paths.ledger, create=True)
    Ledger(db, program)
    db.conn.close()
    from hub.web.tls import ensure_web_certificate

    ensure_web_certificate(paths)
    return (
        f"Hub « {shop} » créé dans {data} / hub '{shop}' created in {data}\n"
        f"  broker : mosquitto -c {BrokerPaths(paths.root).conf}\n"
        f"  kiosks : {settings.mqtt_host}:{settings.tls_port} (TLS)\n"
        f"  web    : https://{settings.mqtt_host}:{http_port}/ (fidelio-hub --data {data} user add NAME --role admin)\n"
        f"  program: {program.shop_name}\n"
        f"  next   : fidelio-hub --data {data} kiosk add <id> --out kiosk.toml ; fidelio-hub --data {data} run"
    )


def load_hub_program(paths: HubPaths) -> Program:
    try:
        return load_program(paths.program.read_text(encoding="utf-8"), str(paths.program))
    except FileNotFoundError as exc:
        raise HubError(f"{paths.program} introuvable / not found") from exc


def open_ledger(data: Path, clock: HubClock | None = None) -> Ledger:
    paths = HubPaths(data)
    try:
        config = load_config(paths)
        program = load_hub_program(paths)
        db = open_database(paths.ledger)
    except (ConfigError, ProgramError, LedgerOpenError) as exc:
        raise HubError(str(exc)) from exc
    return Ledger(db, program, clock, policy_version=config.privacy.policy_version)


def open_hub_service(data: Path, notifier: Notifier | None = None) -> HubService:
    paths = HubPaths(data)
    try:
        config = load_config(paths)
        settings = load_settings(paths.root)
    except (ConfigError, BrokerError) as exc:
        raise HubError(str(exc)) from exc
    if anonymous_broker_at("127.0.0.1", settings.local_port):
        raise HubError(
            f"Le broker sur 127.0.0.1:{settings.local_port} accepte les connexions anonymes : ce n'est pas "
            "celui de la boutique (le service mosquitto de Debian ?). Arrêtez-le (systemctl disable --now "
            f"mosquitto) ou choisissez un autre port (init --local-port). / The broker on 127.0.0.1:"
            f"{settings.local_port} accepts anonymous clients: it is not the shop's broker (Debian's own "
            "mosquitto service?). Stop it (systemctl disable --now mosquitto) or use another port "
            "(init --local-port)."
        )
    ledger = open_ledger(data)
    endpoint = MqttEndpoint("127.0.0.1", settings.local_port, config.mqtt.username, config.mqtt.password)
    return HubService(config.shop, endpoint, ledger, notifier=notifier or Notifier())


@dataclass
class Hub:
    """The hub process: the MQTT service (and its single ledger writer) and the staff web beside it."""

    service: HubService
    web: WebServer
    reader: ReadConnections
    webhooks: WebhookDispatcher | None = None

    def start(self) -> None:
        self.web.start()  # binds first: a port in use fails before READY
        self.service.start()
        if self.webhooks is not None:
            self.webhooks.start()

    def stop(self) -> None:
        self.web.stop()  # no new writes, then the writer finishes its batch
        self.service.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        self.reader.close()

    def run_until(self, stop: threading.Event) -> int:
        """Serve until `stop` is set (0) or the writer died (70: let systemd restart a clean process)."""
        self.start()
        while not stop.wait(0.5):
            if self.service.failed is not None:
                break
        self.stop()
        return 70 if self.service.failed is not None else 0


def open_web(
    data: Path, service: HubService, *, port: int | None = None
) -> tuple[WebServer, ReadConnections]:
    """The staff web for `service`: its app on a WebServer (not started), and its read connections."""
    from hub.ledger.reads import LedgerReader, ReadConnections
    from hub.web.app import create_app
    from hub.web.context import WebContext
    from hub.web.server import WebServer
    from hub.web.tls import ensure_web_certificate

    paths = HubPaths(data)
    config = load_config(paths)
    http = config.http
    connections = ReadConnections(paths.ledger)
    reader = LedgerReader(connections, service.ledger.program, service.ledger.clock)
    ca_pem = BrokerPaths(paths.root).ca_crt.read_bytes()
    ctx = WebContext(config.shop, reader, service, http, ca_pem=ca_pem, data=paths.root,
                     kiosk_status=service.kiosks.snapshot)  # fmt: skip
    tls = ensure_web_certificate(paths) if http.use_tls else None
    server = WebServer(create_app(ctx), http.bind, http.port if port is None else port, tls)
    return server, connections


def open_hub(data: Path, notifier: Notifier | None = None) -> Hub:
    from hub.webhooks import WebhookDispatcher

    service = open_hub_service(data, notifier)
    web, connections = open_web(data, service)
    webhooks = WebhookDispatcher(HubPaths(data).root)
    service.event_listeners.append(webhooks.offer)
    return Hub(service, web, connections, webhooks)


def check_hub(data: Path) -> list[str]:
    try:
        conn = open_read_only(HubPaths(data).ledger)
    except LedgerOpenError as exc:
        return [str(exc)]
    try:
        return check_ledger(conn)
    finally:
        conn.close()
