"""`fidelio-hub run` serving the staff web and API over TLS with the shop CA; the `user` and `apikey`
commands; plain HTTP only on loopback."""

from __future__ import annotations

import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from hub.broker.process import BrokerProcess, free_port, port_open
from hub.config import HttpConfig, HubPaths, load_config, write_config
from tests.support import wait_until

BIN = Path(sys.executable).parent


def hub_cli(
    data: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(BIN / "fidelio-hub"), "--data", str(data), *args], input=stdin,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def data_dir():
    root = Path(tempfile.mkdtemp(prefix="fidelio-web-"))
    root.chmod(0o755)  # the broker (its own user when run as root) must reach the mosquitto files
    yield root / "hub"
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def test_plain_http_is_allowed_on_loopback_only():
    assert HttpConfig().use_tls  # the default binds every interface: TLS
    assert not HttpConfig(bind="127.0.0.1").use_tls
    assert HttpConfig(bind="127.0.0.1", tls=True).use_tls
    with pytest.raises(ValidationError, match=r"only allowed on 127\.0\.0\.1"):
        HttpConfig(bind="0.0.0.0", tls=False)


def test_run_serves_web_and_api_over_tls_with_the_shop_ca(data_dir: Path):
    http_port = free_port()
    hub_cli(data_dir, "init", "--shop", "tls-shop", "--mqtt-host", "localhost", "--mqtt-port", str(free_port()),
            "--local-port", str(free_port()), "--http-port", str(http_port))  # fmt: skip
    paths = HubPaths(data_dir)
    config = load_config(paths)  # TLS on loopback: what a LAN client gets, without opening the LAN
    write_config(
        paths,
        config.model_copy(update={"http": config.http.model_copy(update={"bind": "127.0.0.1", "tls": True})}),
    )
    assert (paths.web_key.stat().st_mode & 0o777) == 0o600

    made = hub_cli(
        data_dir, "user", "add", "ada", "--role", "admin", "--password-stdin", stdin="ada-the-admin-1\n"
    )
    assert "ada (admin)" in made.stdout
    assert hub_cli(data_dir, "user", "add", "bob", "--role", "staff", "--password-stdin", stdin="short\n",
                   check=False).returncode == 1  # fmt: skip
    key = hub_cli(data_dir, "apikey", "add", "caisse", "--scope", "lookup,purchase").stdout.strip()
    assert key.startswith("fk_")
    assert "caisse\tlookup,purchase" in hub_cli(data_dir, "apikey", "list").stdout
    with sqlite3.connect(paths.ledger) as db:
        stored = db.execute("SELECT secret_sha256 FROM api_keys").fetchone()[0]
        hashed = db.execute("SELECT password_hash FROM staff_users WHERE name = 'ada'").fetchone()[0]
    assert key.split("_", 2)[2] not in stored and hashed.startswith("$argon2id$")  # fk_<id>_<secret>

    broker = BrokerProcess(data_dir, data_dir.parent / "mosquitto.log")
    broker.start()
    hub = subprocess.Popen([str(BIN / "fidelio-hub"), "--data", str(data_dir), "run"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert wait_until(lambda: port_open(http_port), 20), "the web did not start"
        ca = ssl.create_default_context(cafile=str(paths.ca_cert))
        with httpx.Client(base_url=f"https://localhost:{http_port}", verify=ca, timeout=20) as web:
            page = web.get("/login")
            assert page.status_code == 200 and "Connexion" in page.text
            assert page.headers["strict-transport-security"].startswith("max-age=")
            cookie = page.headers["set-cookie"]
            assert cookie.startswith("__Host-fidelio-login=") and "Secure" in cookie and "HttpOnly" in cookie
            assert web.get("/ca.crt").content == paths.ca_cert.read_bytes()
            found = web.get("/api/v1/members/lookup", params={"code": "AAAAAAAA"},
                            headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            assert found.status_code == 404 and found.json()["error"]["code"] == "unknown_member"
            revoked = hub_cli(data_dir, "apikey", "revoke", "caisse")
            assert "revoked" in revoked.stdout
            refused = web.get("/api/v1/members/lookup", params={"code": "AAAAAAAA"},
                              headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            assert refused.status_code == 401
        with pytest.raises(httpx.HTTPError):  # a certificate not from the shop CA is not trusted
            httpx.get(f"https://localhost:{http_port}/login", timeout=5)
        with pytest.raises(httpx.HTTPError):  # and there is no plain HTTP on the TLS port
            httpx.get(f"http://127.0.0.1:{http_port}/login", timeout=5)
        hub_cli(data_dir, "user", "remove", "ada")
        assert "ada" not in hub_cli(data_dir, "user", "list").stdout
    finally:
        hub.send_signal(signal.SIGTERM)
        out, _ = hub.communicate(timeout=30)
        broker.stop()
    assert hub.returncode == 0, out
    assert '"msg": "web listening"' in out
