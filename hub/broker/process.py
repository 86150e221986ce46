"""Running the shop's Mosquitto as a child process (the demo and the tests; systemd runs it on a hub)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from hub.broker.errors import BrokerError

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


def find_mosquitto() -> str:
    for candidate in MOSQUITTO_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("mosquitto")
    if found:
        return found
    raise BrokerError(
        "Mosquitto est introuvable : lancez « bash scripts/setup.sh » (paquet Debian mosquitto)",
        "Mosquitto not found: run 'bash scripts/setup.sh' (Debian package mosquitto)",
    )


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerProcess:
    """`mosquitto -c DIR/mosquitto/mosquitto.conf`, waited for until every listener accepts."""

    def __init__(self, conf: Path, ports: list[int], log_file: Path | None = None) -> None:
        self.conf = Path(conf)
        self.ports = ports
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> None:
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [find_mosquitto(), "-c", str(self.conf)], stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerError(
                    f"Mosquitto s'est arrêté au démarrage (code {self.proc.returncode}) ; voir {self.log_file}",
                    f"Mosquitto exited at start (code {self.proc.returncode}); see {self.log_file}",
                )
            if all(port_open(p) for p in self.ports):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"Mosquitto n'écoute pas sur {self.ports} après {timeout} s",
            f"Mosquitto not listening on {self.ports} after {timeout} s",
        )

    def reload(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(1)  # SIGHUP: re-read passwd and acl

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
