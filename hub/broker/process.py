"""Running the shop's Mosquitto as a child process (the demo and the tests; systemd runs it on a hub)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from hub.broker.errors import BrokerError
from hub.broker.provision import load_settings, mosquitto_command


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerProcess:
    """`mosquitto -c DIR/mosquitto/mosquitto.conf`, waited for until both listeners accept."""

    def __init__(self, data_dir: Path, log_file: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        settings = load_settings(self.data_dir)
        self.ports = [settings.local_port, settings.tls_port]
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> None:
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(mosquitto_command(self.data_dir), stdout=out, stderr=subprocess.STDOUT)
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
