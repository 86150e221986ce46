"""Shared fixtures: a REAL Mosquitto broker running the project's generated config (DESIGN §8).

Fixtures
- `mosquitto_tmp_dir`: an empty temporary directory the `mosquitto` user can enter (pytest's own
  `tmp_path` is 0700 under /tmp/pytest-of-root, which the broker, once it drops root, cannot reach).
- `hub_dir`: a fresh `init_broker` data directory in it (shop `test-shop`, host `localhost`, free ports,
  TLS bound to 127.0.0.1 only); `hub_credentials`: the hub's broker user made by that init.
- `broker`: `/usr/sbin/mosquitto -c hub_dir/mosquitto/mosquitto.conf` running, a `RunningBroker`:
  `.local_port`, `.tls_port`, `.data_dir`, `.shop`, `.topics`, `.hub_credentials`, `.paths`,
  `.start()` / `.stop()` / `.kill()` (same ports and persistence: offline tests), `.reload()` (SIGHUP,
  waits until done), `.add_kiosk(id)` / `.revoke_kiosk(id)` (waits for the reload),
  `.connect(username, password, tls=False, client_id=None, *, clean_start, session_expiry, ca_file)`
  and `.connect_hub(...)` -> a connected `MqttTestClient`, `.log_text()`.
- `broker_factory`: `broker_factory(data_dir, hub_credentials=None)` starts a broker for a directory you
  initialised yourself (e.g. with `hub.app.init_hub(..., mqtt_port=free_port(), local_port=free_port())`).
Helpers: `free_port()` (`from conftest import free_port`), `MqttTestClient`, `BrokerConnectError`.

Every broker and client is stopped at teardown. A missing mosquitto is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from fidelio.contract.topics import Topics
from hub.broker import BrokerPaths, BrokerSettings, HubCredentials, init_broker, kiosk_add, kiosk_revoke
from hub.broker import load_settings as load_broker_settings
from hub.broker.files import untraversable_for_mosquitto
from hub.broker.process import free_port, port_open

MOSQUITTO = "/usr/sbin/mosquitto"
SETUP_HINT = "run the project's setup script (`bash scripts/setup.sh`, which installs Debian's mosquitto)"
TEST_SHOP = "test-shop"
START_TIMEOUT_S = 10.0


class BrokerConnectError(Exception):
    """The broker answered CONNECT with a failure (`reason_code`, e.g. "Not authorized")."""

    def __init__(self, reason_code: ReasonCode) -> None:
        super().__init__(f"CONNACK refused: {reason_code}")
        self.reason_code = reason_code


class MqttTestClient(mqtt.Client):
    """A paho 2.x MQTT v5 client that records what tests wait for: CONNACK, SUBACK and PUBACK reason
    codes by message id, and every received message. Sockets get TCP_NODELAY like the real services.

    The helpers rely on `on_connect`, `on_subscribe`, `on_publish` and `on_message`: replacing those
    callbacks disables them (`message_callback_add` is fine for extra per-topic handling)."""

    def __init__(self, client_id: str = "") -> None:
        super().__init__(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self._t_cond = threading.Condition()
        self._t_connack: ReasonCode | None = None
        self._t_acks: dict[int, Any] = {}
        self.received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.on_connect = self._t_on_connect
        self.on_subscribe = self._t_on_subscribe
        self.on_publish = self._t_on_publish
        self.on_message = self._t_on_message
        self.on_socket_open = self._t_on_socket_open
        # Reconnect fast after a broker restart, and let loop_stop() return at once (paho sleeps out
        # its reconnect delay, 1 s by default, before it looks at loop_stop's request).
        self.reconnect_delay_set(min_delay=0.1, max_delay=1)  # type: ignore[arg-type]

    # callbacks (network thread)
    def _t_on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _t_on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: ReasonCode, props: Any
    ) -> None:
        with self._t_cond:
            self._t_connack = rc
            self._t_cond.notify_all()

    def _t_on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, rcs: list[ReasonCode], props: Any
    ) -> None:
        with self._t_cond:
            self._t_acks[mid] = rcs
            self._t_cond.notify_all()

    def _t_on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: ReasonCode, props: Any) -> None:
        with self._t_cond:
            self._t_acks[mid] = rc
            self._t_cond.notify_all()

    def _t_on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received.put(message)

    def _t_wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        with self._t_cond:
            if not self._t_cond.wait_for(predicate, timeout):
                raise TimeoutError(f"no {what} within {timeout} s")

    def _t_take_ack(self, mid: int, timeout: float, what: str) -> Any:
        self._t_wait(lambda: mid in self._t_acks, timeout, what)
        with self._t_cond:
            return self._t_acks.pop(mid)

    # helpers (test thread)
    @property
    def connack(self) -> ReasonCode | None:
        """The CONNACK reason code of the last connection attempt, None before it arrives."""
        return self._t_connack

    def wait_connack(self, timeout: float = 5.0) -> ReasonCode:
        self._t_wait(lambda: self._t_connack is not None, timeout, "CONNACK")
        assert self._t_connack is not None
        return self._t_connack

    def subscribe_wait(self, topic: str, qos: int = 1, timeout: float = 5.0) -> list[ReasonCode]:
        """Subscribe and return the SUBACK reason codes (0x87 "Not authorized" when the ACL denies)."""
        result, mid = self.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS, mqtt.error_string(result)
        return list(self._t_take_ack(mid, timeout, f"SUBACK for {topic}"))

    def publish_wait(
        self,
        topic: str,
        payload: bytes | str = b"",
        qos: int = 1,
        *,
        retain: bool = False,
        properties: Properties | None = None,
        timeout: float = 5.0,
    ) -> ReasonCode:
        """Publish and return the PUBACK reason code for QoS 1 (0x87 "Not authorized" when the ACL
        denies, 0x10 "No matching subscribers" when accepted but nobody listens); for QoS 0, Success
        once written to the socket."""
        info = self.publish(topic, payload, qos, retain=retain, properties=properties)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, mqtt.error_string(info.rc)
        return self._t_take_ack(info.mid, timeout, f"PUBACK for {topic}")

    def expect_message(self, timeout: float = 5.0) -> mqtt.MQTTMessage:
        """The next received message (any topic), or AssertionError after `timeout`."""
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message received within {timeout} s") from None

    def assert_no_message(self, within: float = 0.5) -> None:
        try:
            message = self.received.get(timeout=within)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected message on {message.topic!r}: {message.payload[:200]!r}")

    def close(self) -> None:
        self.disconnect()
        self.loop_stop()


@dataclass
class ProvisionedKiosk:
    """A kiosk added with `RunningBroker.add_kiosk`: its provisioning file, parsed."""

    id: str
    file: Path
    config: dict[str, Any]

    @property
    def username(self) -> str:
        return str(self.config["mqtt"]["username"])

    @property
    def password(self) -> str:
        return str(self.config["mqtt"]["password"])


@dataclass
class RunningBroker:
    """The shop's Mosquitto as a child process: start/stop/kill/reload and MQTT clients for tests."""

    data_dir: Path
    hub_credentials: HubCredentials | None
    log_path: Path
    settings: BrokerSettings = field(init=False)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _clients: list[MqttTestClient] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.settings = load_broker_settings(self.data_dir)

    @property
    def paths(self) -> BrokerPaths:
        return BrokerPaths(self.data_dir)

    @property
    def local_port(self) -> int:
        return self.settings.local_port

    @property
    def tls_port(self) -> int:
        return self.settings.tls_port

    @property
    def shop(self) -> str:
        return self.settings.shop

    @property
    def topics(self) -> Topics:
        return Topics(self.settings.shop)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _reload_count(self) -> int:
        return self.log_text().count("Reloading config.")

    # lifecycle
    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start (or restart, same ports and persistence) and wait until both listeners accept."""
        if self.running:
            return
        if not os.access(MOSQUITTO, os.X_OK):
            pytest.fail(f"{MOSQUITTO} is missing: {SETUP_HINT}", pytrace=False)
        with self.log_path.open("ab") as log:
            log.write(b"--- fixture: starting mosquitto ---\n")
            log.flush()
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.paths.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail_exited(self.process.returncode)
            if port_open(self.local_port) and port_open(self.tls_port):
                return
            time.sleep(0.02)
        self.stop()
        pytest.fail(
            f"mosquitto not listening on {self.local_port}/{self.tls_port} after {timeout} s:\n"
            + self.log_text(),
            pytrace=False,
        )

    def _fail_exited(self, returncode: int) -> None:
        blocked = untraversable_for_mosquitto(self.paths.root)
        hint = f"\nthe mosquitto user cannot enter: {', '.join(map(str, blocked))}" if blocked else ""
        pytest.fail(f"mosquitto exited with {returncode}:\n{self.log_text()}{hint}", pytrace=False)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the broker saves its persistence file), wait; SIGKILL if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: a crash; what was not autosaved to persistence is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def reload(self, timeout: float = 5.0) -> None:
        """SIGHUP and wait until the broker has reread passwd/acl (it logs "Reloading config." and
        reloads in the same loop iteration, so later connections see the new files)."""
        before = self._reload_count()
        assert self.process is not None and self.running, "broker not running"
        self.process.send_signal(signal.SIGHUP)
        self._wait_reloaded(before, timeout)

    def _wait_reloaded(self, before: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._reload_count() <= before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"mosquitto did not reload within {timeout} s:\n{self.log_text()}")
            time.sleep(0.01)

    # kiosks
    def add_kiosk(self, kiosk_id: str, out: Path | None = None) -> ProvisionedKiosk:
        """`kiosk_add` + wait for the broker to pick it up; the provisioning file goes beside the log."""
        out = out or self.log_path.parent / f"kiosk-{kiosk_id}-{time.monotonic_ns()}.toml"
        before = self._reload_count()
        row = kiosk_add(self.data_dir, kiosk_id, out)
        self._after_change(row["broker_reloaded"], before)
        return ProvisionedKiosk(kiosk_id, out, tomllib.loads(out.read_text()))

    def revoke_kiosk(self, kiosk_id: str) -> None:
        before = self._reload_count()
        row = kiosk_revoke(self.data_dir, kiosk_id)
        self._after_change(row["broker_reloaded"], before)

    def _after_change(self, signalled: bool, before: int) -> None:
        if not self.running:
            return
        if signalled:
            self._wait_reloaded(before, 5.0)
        else:
            self.reload()

    # clients
    def connect(
        self,
        username: str | None,
        password: str | None,
        tls: bool = False,
        client_id: str | None = None,
        *,
        clean_start: bool = True,
        session_expiry: int | None = None,
        ca_file: Path | None = None,
        timeout: float = 5.0,
    ) -> MqttTestClient:
        """A connected MQTT v5 client (network loop running), closed at teardown.

        tls=False: the plain loopback listener. tls=True: the TLS listener at host `localhost`,
        trusting `ca_file` (default the shop CA). Raises `BrokerConnectError` on a refused CONNACK,
        `ssl.SSLError` when the TLS handshake fails. On the TLS listener the broker replaces the
        client id with the user name (`use_username_as_clientid`)."""
        client = MqttTestClient(client_id or f"test-{time.monotonic_ns()}")
        if username is not None:
            client.username_pw_set(username, password)
        if tls:
            client.tls_set(ca_certs=str(ca_file or self.paths.ca_crt))
        properties = None
        if session_expiry is not None:
            properties = Properties(mqtt.PacketTypes.CONNECT)
            properties.SessionExpiryInterval = session_expiry
        host, port = ("localhost", self.tls_port) if tls else ("127.0.0.1", self.local_port)
        client.connect(host, port, keepalive=30, clean_start=clean_start, properties=properties)
        # Drive the loop by hand until CONNACK: a refused client then never starts paho's reconnecting
        # thread (whose loop_stop() can take a second).
        deadline = time.monotonic() + timeout
        while client.connack is None and time.monotonic() < deadline:
            client.loop(timeout=0.05)
        rc = client.connack
        if rc is None:
            client.disconnect()
            raise TimeoutError(f"no CONNACK from {host}:{port} within {timeout} s")
        if rc.is_failure:
            client.disconnect()
            raise BrokerConnectError(rc)
        client.loop_start()
        self._clients.append(client)
        return client

    def connect_hub(self, **kwargs: Any) -> MqttTestClient:
        """A client logged in as the hub user, on the loopback listener."""
        assert self.hub_credentials is not None, "no hub credentials given to this broker"
        return self.connect(self.hub_credentials.username, self.hub_credentials.password, **kwargs)

    def close_clients(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):  # best effort at teardown
                client.close()
        self._clients.clear()


@pytest.fixture
def mosquitto_tmp_dir() -> Iterator[Path]:
    """An empty temporary directory (0755, in the system temp dir) the `mosquitto` user can traverse."""
    path = Path(tempfile.mkdtemp(prefix="fidelio-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class _InitialisedHub:
    data_dir: Path
    credentials: HubCredentials


@pytest.fixture
def _initialised_hub(mosquitto_tmp_dir: Path) -> _InitialisedHub:
    data_dir = mosquitto_tmp_dir / "hub"
    settings = BrokerSettings(
        shop=TEST_SHOP,
        mqtt_host="localhost",
        tls_port=free_port(),
        local_port=free_port(),
        bind_address="127.0.0.1",
    )
    return _InitialisedHub(data_dir, init_broker(data_dir, settings))


@pytest.fixture
def hub_dir(_initialised_hub: _InitialisedHub) -> Path:
    """A data directory holding a fresh broker setup (`init_broker`), not started."""
    return _initialised_hub.data_dir


@pytest.fixture
def hub_credentials(_initialised_hub: _InitialisedHub) -> HubCredentials:
    """The hub's broker user created by the `hub_dir` init (loopback host and port included)."""
    return _initialised_hub.credentials


@pytest.fixture
def broker_factory(mosquitto_tmp_dir: Path) -> Iterator[Callable[..., RunningBroker]]:
    """`broker_factory(data_dir, hub_credentials=None) -> RunningBroker`, started; all are stopped at
    teardown. Logs go to `<mosquitto_tmp_dir>/mosquitto-N.log` (printed in failure messages)."""
    started: list[RunningBroker] = []

    def make(data_dir: Path, hub_credentials: HubCredentials | None = None) -> RunningBroker:
        log_path = mosquitto_tmp_dir / f"mosquitto-{len(started)}.log"
        running = RunningBroker(Path(data_dir), hub_credentials, log_path)
        started.append(running)
        running.start()
        return running

    yield make
    for running in started:
        running.close_clients()
        running.stop()


@pytest.fixture
def broker(
    broker_factory: Callable[..., RunningBroker], hub_dir: Path, hub_credentials: HubCredentials
) -> RunningBroker:
    """The real Mosquitto serving `hub_dir`, ready on both listeners; see `RunningBroker`."""
    return broker_factory(hub_dir, hub_credentials)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium under Playwright, one per test module (the staff web tests)."""
    from tests.web_browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory):
    """Signed, installable bundles of this checkout (tests/update_support.py), for the update tests."""
    from tests.update_support import make_releases

    return make_releases(tmp_path_factory.mktemp("releases"))


@pytest.fixture(scope="module")
def hub():
    """The staff web's tests: broker + hub service + web, with the seeded members (a module may define its own)."""
    from tests.web_harness import running_web_hub, seed_members

    with running_web_hub() as web_hub:
        web_hub.seed = seed_members(web_hub)  # type: ignore[attr-defined]
        yield web_hub


@pytest.fixture
def page(browser, hub):
    """A French page of Debian's chromium on the module's hub."""
    from tests.web_browser import french_page

    with french_page(browser, hub.url) as page:
        yield page
