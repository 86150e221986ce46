"""A whole hub for tests: `init` in a fresh directory, the real Mosquitto, the hub in-process or as a
child process (for kill -9), and provisioned kiosks talking TLS through the real broker."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fidelio.contract import new_request
from hub.app import init_hub, open_hub_service
from hub.broker import kiosk_add
from hub.broker.process import BrokerProcess, free_port
from hub.service import HubService
from kiosk.provisioning import Provisioning, load_provisioning
from kiosk.simple_client import SimpleHubClient

REPO = Path(__file__).resolve().parents[1]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `predicate` until it holds or `timeout` passes (for state that no callback announces)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@contextmanager
def running_hub(program: Path | None = None) -> Iterator[HubHarness]:
    """A harness with its broker and in-process hub service started, closed afterwards."""
    harness = HubHarness(program)
    try:
        harness.start_broker()
        harness.start_service()
        yield harness
    finally:
        harness.close()


class NotifyListener:
    """systemd's side of the notify protocol: a datagram socket the hub reports READY/STATUS to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[str] = []

    def wait_for(self, text: str, timeout: float = 30) -> bool:
        """Wait for a datagram containing `text` (messages already received count)."""
        deadline = time.monotonic() + timeout
        while not any(text in m for m in self.messages):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                return False
        return True

    def clear(self) -> None:
        self.messages.clear()

    def close(self) -> None:
        self.sock.close()


class HubHarness:
    def __init__(self, program: Path | None = None, shop: str = "test-shop") -> None:
        # mosquitto drops root for its own user: the directory must be traversable by it.
        self.root = Path(tempfile.mkdtemp(prefix="fidelio-test-"))
        self.root.chmod(0o755)
        self.data = self.root / "hub"
        self.shop = shop
        self.tls_port, self.local_port = free_port(), free_port()
        self.http_port = free_port()  # the hub process serves its staff web here (never a fixed port)
        init_hub(self.data, shop, program_file=program, mqtt_host="localhost",
                 mqtt_port=self.tls_port, local_port=self.local_port, http_port=self.http_port)  # fmt: skip
        self.broker = BrokerProcess(self.data, self.root / "mosquitto.log")
        self.service: HubService | None = None
        self.hub_proc: subprocess.Popen[bytes] | None = None
        self.clients: list[SimpleHubClient] = []

    # -- parts ------------------------------------------------------------------------------------
    def start_broker(self) -> None:
        self.broker.start()

    def start_service(self) -> HubService:
        self.service = open_hub_service(self.data)
        self.service.start()
        assert self.service.wait_connected(10), "hub did not connect to the broker"
        return self.service

    def stop_service(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service.ledger.db.conn.close()
            self.service = None

    def start_hub_process(self, notify: NotifyListener | None = None) -> subprocess.Popen[bytes]:
        log = open(self.root / "hub.log", "ab")  # noqa: SIM115
        env = dict(os.environ)
        if notify is not None:
            env["NOTIFY_SOCKET"] = str(notify.path)
        self.hub_proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "--data", str(self.data), "run"],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env,
        )  # fmt: skip
        return self.hub_proc

    def kill_hub_process(self, sig: int = signal.SIGKILL) -> None:
        if self.hub_proc is not None:
            self.hub_proc.send_signal(sig)
            self.hub_proc.wait(timeout=30)
            self.hub_proc = None

    def provision(self, kiosk: str) -> Provisioning:
        out = self.root / f"{kiosk}.toml"
        kiosk_add(self.data, kiosk, out)
        self.broker.reload()
        time.sleep(0.2)  # SIGHUP is asynchronous
        return load_provisioning(out)

    def kiosk(self, kiosk: str, client_id: str | None = None) -> SimpleHubClient:
        client = SimpleHubClient(self.provision(kiosk), client_id)
        client.connect()
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            try:
                client.client.disconnect()
                client.client.loop_stop()
            except Exception:
                pass
        self.stop_service()
        self.kill_hub_process(signal.SIGTERM)
        self.broker.stop()
        if os.environ.get("FIDELIO_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(self.root, ignore_errors=True)


class StreamingKiosk(threading.Thread):
    """Makes purchases one after another; resends the same id until the hub answers, like a real kiosk."""

    def __init__(self, harness: HubHarness, name: str, card: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.client = harness.kiosk(name)
        self.card = card
        self.stop_event = stop
        self.sent: dict[str, int] = {}  # request id -> amount, every distinct purchase made
        self.answered: set[str] = set()
        self.resends = 0
        #: (hub time of the reply, wall time it arrived): tells which replies crossed a kill
        self.timings: list[tuple[str, float]] = []
        self.rng = random.Random(name)

    def run(self) -> None:
        while not self.stop_event.is_set():
            amount = self.rng.randint(1, 50_000)
            req = new_request("purchase", self.client.prov.kiosk, self.card, {"amount_cents": amount})
            self.sent[req.id] = amount
            pending = self.client.send(req)
            while not pending.done.wait(0.3):
                self.resends += 1
                self.client._publish(req)  # resend the same id, as a kiosk's outbox does
            assert pending.reply is not None and pending.reply["ok"], pending.reply
            self.answered.add(req.id)
            self.timings.append((pending.reply["at"], time.time()))


PCSCD = shutil.which("pcscd") or "/usr/sbin/pcscd"
PCSC_TEST_READER = "Virtual PCD 00 00"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
VPCD_PORT = 0x8C7B  # 35963, Debian's vpcd config


@dataclass(frozen=True)
class VpcdReader:
    """vsmartcard's reader in a generated reader.conf.d. Its driver gives it two slots, i.e. two PC/SC
    readers: "<name> 00 00" takes virtual cards on `port`, "<name> 00 01" on `port + 1`. It keeps their
    state in one global table indexed by slot alone, so one pcscd runs one vpcd reader, not two: a
    second entry takes the first one's slots over and then neither sees a card."""

    name: str
    port: int = VPCD_PORT

    def slot(self, n: int) -> str:
        return f"{self.name} 00 {n:02X}"

    def slots(self) -> list[str]:
        return [self.slot(0), self.slot(1)]

    def conf(self) -> str:
        return (f'FRIENDLYNAME "{self.name}"\nDEVICENAME /dev/null:0x{self.port:04X}\n'
                f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{self.port:04X}\n")  # fmt: skip


def _answering_readers() -> list[str] | None:
    """The PC/SC readers pcscd lists, or None while no pcscd answers."""
    from smartcard.System import readers

    try:
        return [str(r) for r in readers()]
    except Exception:
        return None


class Pcscd:
    """Debian's pcscd in the foreground, with vsmartcard's virtual reader: Debian's own driver config
    (`vpcd="system"`: the reader PCSC_TEST_READER), or a reader.conf.d generated for `vpcd` (two PC/SC
    readers, see VpcdReader), or for no reader at all (`vpcd=None`). One pcscd at a time: it owns
    /run/pcscd."""

    def __init__(self, vpcd: VpcdReader | Literal["system"] | None = "system") -> None:
        self.vpcd = vpcd
        self.proc: subprocess.Popen[bytes] | None = None
        self._conf_dir: Path | None = None

    def start(self) -> None:
        assert os.path.exists(PCSCD), (
            "pcscd missing: run scripts/setup.sh (Debian's pcscd and vsmartcard-vpcd)"
        )
        args, vpcd = [PCSCD, "--foreground"], self.vpcd
        if vpcd == "system":
            expected = [PCSC_TEST_READER]
        else:
            self._conf_dir = Path(tempfile.mkdtemp(prefix="fidelio-reader.conf.d-"))
            (self._conf_dir / "vpcd").write_text(vpcd.conf() if isinstance(vpcd, VpcdReader) else "")
            args += ["--config", str(self._conf_dir)]
            expected = vpcd.slots() if isinstance(vpcd, VpcdReader) else []
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def ready() -> bool:
            listed = _answering_readers()
            return listed is not None and all(name in listed for name in expected)

        assert wait_until(ready, 15), f"pcscd did not show the virtual readers {expected}"

    def restart(self, vpcd: VpcdReader | Literal["system"] | None) -> None:
        """pcscd stopped and started again with another reader, or none (readers unplugged, plugged)."""
        self.kill()
        self.vpcd = vpcd
        self.start()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self._conf_dir is not None:
            shutil.rmtree(self._conf_dir, ignore_errors=True)
            self._conf_dir = None
