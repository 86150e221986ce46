"""hub/broker without a running broker: the files `init_broker` and `kiosk_add` write."""

from __future__ import annotations

import base64
import grp
import ipaddress
import os
import pwd
import shutil
import stat
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from hub.broker import (
    BrokerError,
    BrokerPaths,
    BrokerSettings,
    init_broker,
    kiosk_add,
    kiosk_list,
    kiosk_revoke,
    load_settings,
    provisioning_toml,
)
from hub.broker.acl import acl_text
from hub.broker.conf import mosquitto_conf
from hub.broker.files import untraversable_for_mosquitto
from hub.broker.passwords import hash_password, parse_password_file, verify_password


def _mosquitto_gid() -> int | None:
    if os.geteuid() != 0:
        return None
    try:
        return grp.getgrnam("mosquitto").gr_gid
    except KeyError:
        return None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_every_file_with_its_mode(hub_dir: Path) -> None:
    paths = BrokerPaths(hub_dir)
    readable = [paths.ca_crt, paths.server_crt, paths.server_key, paths.passwd, paths.acl, paths.conf]
    for path in [*readable, paths.ca_key, paths.settings, paths.kiosks]:
        assert path.is_file(), path
    assert paths.persistence.is_dir()
    assert _mode(paths.ca_key) == 0o600
    assert all(_mode(p) == 0o640 for p in readable)
    assert _mode(paths.root) == 0o750 and _mode(paths.persistence) == 0o750
    assert kiosk_list(hub_dir) == []
    gid = _mosquitto_gid()
    if gid is not None:  # root + Debian's mosquitto: the broker's group reads, the CA key stays root's
        assert (paths.ca_key.stat().st_uid, paths.ca_key.stat().st_gid) == (0, 0)
        assert all(p.stat().st_gid == gid for p in [*readable, paths.root])
        assert paths.persistence.stat().st_uid == pwd.getpwnam("mosquitto").pw_uid


def test_init_refuses_an_existing_setup(hub_dir: Path) -> None:
    before = BrokerPaths(hub_dir).passwd.read_bytes()
    with pytest.raises(BrokerError, match=r"déjà initialisé .* / .*already initialised"):
        init_broker(hub_dir, BrokerSettings("other-shop"))
    assert BrokerPaths(hub_dir).passwd.read_bytes() == before


def _conf_lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("bind_address", [None, "0.0.0.0", "127.0.0.1"])
def test_conf_has_no_plain_listener_off_loopback(tmp_path: Path, bind_address: str | None) -> None:
    settings = BrokerSettings(
        "shop", mqtt_host="hub.local", tls_port=8883, local_port=1883, bind_address=bind_address
    )
    lines = _conf_lines(mosquitto_conf(settings, BrokerPaths(tmp_path)))
    options = {words[0]: words[1:] for words in lines if words[0] != "listener"}
    assert options["per_listener_settings"] == ["false"]
    assert options["allow_anonymous"] == ["false"]
    assert options["set_tcp_nodelay"] == ["true"]
    assert int(options["max_queued_messages"][0]) >= 100_000  # 10 kiosks x 10,000 queued requests
    assert int(options["max_packet_size"][0]) > 16 * 1024
    listeners: list[tuple[list[str], set[str]]] = []
    for words in lines:
        if words[0] == "listener":
            listeners.append((words[1:], set()))
        elif listeners:
            listeners[-1][1].add(words[0])
    assert [args for args, _ in listeners] == [
        ["1883", "127.0.0.1"],
        ["8883", *([bind_address] if bind_address else [])],
    ]
    for args, listener_options in listeners:
        if len(args) < 2 or not ipaddress.ip_address(args[1]).is_loopback:
            assert {"cafile", "certfile", "keyfile", "tls_version"} <= listener_options, args
    for words in lines:
        if words[0] in {"password_file", "acl_file", "cafile", "certfile", "keyfile", "pid_file"}:
            assert Path(words[1]).is_absolute() and Path(words[1]).is_relative_to(tmp_path)


def test_server_certificate_is_signed_by_the_shop_ca_and_names_the_hub(hub_dir: Path) -> None:
    paths = BrokerPaths(hub_dir)
    ca = x509.load_pem_x509_certificate(paths.ca_crt.read_bytes())
    server = x509.load_pem_x509_certificate(paths.server_crt.read_bytes())
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    hostname = os.uname().nodename.lower()
    assert hostname in san.get_values_for_type(x509.DNSName)
    now = datetime.now(UTC)
    assert ca.not_valid_after_utc - now > timedelta(days=20 * 365)
    assert timedelta(days=9 * 365) < server.not_valid_after_utc - now < ca.not_valid_after_utc - now
    assert server.not_valid_before_utc < now - timedelta(days=30)  # tolerate kiosks with a stale clock


def test_certificate_covers_an_ip_mqtt_host(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    init_broker(data, BrokerSettings("shop", mqtt_host="192.168.1.20"))
    server = x509.load_pem_x509_certificate(BrokerPaths(data).server_crt.read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("192.168.1.20") in san.get_values_for_type(x509.IPAddress)


def test_password_hash_is_mosquitto_passwd_format(tmp_path: Path) -> None:
    hashed = hash_password("s3cret")
    assert hashed.startswith("$7$101$") and verify_password("s3cret", hashed)
    assert not verify_password("s3cret!", hashed)
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        return
    passwd = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwd), "someone", "s3cret"], check=True, capture_output=True)
    theirs = parse_password_file(passwd.read_text())["someone"]
    salt = base64.b64decode(theirs.split("$")[3])
    assert hash_password("s3cret", salt=salt) == theirs  # same algorithm, byte for byte


def test_acl_gives_a_kiosk_only_its_own_topics() -> None:
    text = acl_text("shop", ["k2", "k1"])
    blocks = [b.strip().splitlines() for b in text.split("\n\n")[1:]]
    assert blocks[0] == ["user hub", "topic readwrite fidelio/v1/shop/#"]
    assert blocks[1] == [
        "user kiosk-k1",
        "topic write fidelio/v1/shop/kiosk/k1/request",
        "topic write fidelio/v1/shop/kiosk/k1/status",
        "topic read fidelio/v1/shop/kiosk/k1/reply",
        "topic read fidelio/v1/shop/hub/status",
        "topic read fidelio/v1/shop/hub/program",
    ]
    assert blocks[2][0] == "user kiosk-k2" and len(blocks) == 3


def test_kiosk_add_writes_user_acl_registry_and_provisioning_file(hub_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "k1.toml"
    row = kiosk_add(hub_dir, "k1", out)
    assert row["username"] == "kiosk-k1" and row["revoked_at"] is None
    assert row["broker_reloaded"] is False  # no broker running
    assert _mode(out) == 0o600
    config = tomllib.loads(out.read_text())
    settings = load_settings(hub_dir)
    assert config["shop"] == settings.shop and config["kiosk"] == "k1"
    mqtt = config["mqtt"]
    assert (mqtt["host"], mqtt["port"], mqtt["username"], mqtt["tls"]) == (
        "localhost",
        settings.tls_port,
        "kiosk-k1",
        True,
    )
    assert mqtt["ca"] == BrokerPaths(hub_dir).ca_crt.read_text()
    assert len(mqtt["password"]) >= 32  # 192 random bits, URL-safe base64
    hashes = parse_password_file(BrokerPaths(hub_dir).passwd.read_text())
    assert set(hashes) == {"hub", "kiosk-k1"} and verify_password(mqtt["password"], hashes["kiosk-k1"])
    assert "user kiosk-k1" in BrokerPaths(hub_dir).acl.read_text()
    assert [r["id"] for r in kiosk_list(hub_dir)] == ["k1"]


@pytest.mark.parametrize("bad", ["", "K1", "a/b", "+", "#", "a b", "-a", "a-", "é", "x" * 33, "a\nb"])
def test_invalid_kiosk_ids_are_refused(hub_dir: Path, tmp_path: Path, bad: str) -> None:
    with pytest.raises(BrokerError, match=r"invalide .* / Invalid kiosk id"):
        kiosk_add(hub_dir, bad, tmp_path / "k.toml")
    assert not (tmp_path / "k.toml").exists() and kiosk_list(hub_dir) == []


def test_duplicate_kiosk_and_existing_output_are_refused(hub_dir: Path, tmp_path: Path) -> None:
    kiosk_add(hub_dir, "k1", tmp_path / "k1.toml")
    passwd_before = BrokerPaths(hub_dir).passwd.read_bytes()
    with pytest.raises(BrokerError, match=r"existe déjà .* / .*already exists"):
        kiosk_add(hub_dir, "k1", tmp_path / "again.toml")
    assert not (tmp_path / "again.toml").exists()
    with pytest.raises(BrokerError, match=r"existe déjà .* / .*already exists"):
        kiosk_add(hub_dir, "k2", tmp_path / "k1.toml")  # would overwrite k1's only copy of its password
    assert BrokerPaths(hub_dir).passwd.read_bytes() == passwd_before
    assert [r["id"] for r in kiosk_list(hub_dir)] == ["k1"]


def test_revoke_removes_user_and_acl_and_keeps_the_row(hub_dir: Path, tmp_path: Path) -> None:
    kiosk_add(hub_dir, "k1", tmp_path / "k1.toml")
    kiosk_add(hub_dir, "k2", tmp_path / "k2.toml")
    row = kiosk_revoke(hub_dir, "k1")
    assert row["revoked_at"] is not None
    paths = BrokerPaths(hub_dir)
    assert set(parse_password_file(paths.passwd.read_text())) == {"hub", "kiosk-k2"}
    assert "kiosk-k1" not in paths.acl.read_text() and "user kiosk-k2" in paths.acl.read_text()
    assert [(r["id"], r["revoked_at"] is None) for r in kiosk_list(hub_dir)] == [("k1", False), ("k2", True)]
    with pytest.raises(BrokerError, match="already revoked"):
        kiosk_revoke(hub_dir, "k1")
    with pytest.raises(BrokerError, match="Unknown kiosk"):
        kiosk_revoke(hub_dir, "nope")
    # a revoked id may come back, with a new password
    kiosk_add(hub_dir, "k1", tmp_path / "k1-new.toml")
    old = tomllib.loads((tmp_path / "k1.toml").read_text())["mqtt"]["password"]
    new = tomllib.loads((tmp_path / "k1-new.toml").read_text())["mqtt"]["password"]
    assert old != new and verify_password(new, parse_password_file(paths.passwd.read_text())["kiosk-k1"])
    assert [r["revoked_at"] is None for r in kiosk_list(hub_dir)] == [True, True]


def test_provisioning_toml_escapes_everything() -> None:
    settings = BrokerSettings("shop", mqtt_host="hub.example.org")
    nasty = "a\"b\\c\nd\te\x01f\x7fé'''"
    text = provisioning_toml(settings, "k1", "kiosk-k1", nasty, "not '''pem'''\n")
    config = tomllib.loads(text)
    assert config["mqtt"]["password"] == nasty and config["mqtt"]["ca"] == "not '''pem'''\n"
    pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    text = provisioning_toml(settings, "k1", "kiosk-k1", "pw", pem)
    assert "ca = '''\n-----BEGIN" in text and tomllib.loads(text)["mqtt"]["ca"] == pem


def test_settings_are_validated() -> None:
    with pytest.raises(BrokerError, match="Invalid shop id"):
        BrokerSettings("Bad Shop")
    with pytest.raises(BrokerError, match="must differ"):
        BrokerSettings("shop", tls_port=1883, local_port=1883)
    with pytest.raises(BrokerError, match="Invalid MQTT host"):
        BrokerSettings("shop", mqtt_host="bad host")
    with pytest.raises(BrokerError, match="Invalid port"):
        BrokerSettings("shop", tls_port=70000)


def test_kiosk_commands_need_an_initialised_broker(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="No broker initialised"):
        kiosk_add(tmp_path, "k1", tmp_path / "k1.toml")
    with pytest.raises(BrokerError, match="No broker initialised"):
        kiosk_list(tmp_path)


def test_untraversable_directories_are_reported(tmp_path: Path) -> None:
    assert _mosquitto_gid() is not None, "no mosquitto user: run scripts/setup.sh (Debian's mosquitto)"
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    assert private in untraversable_for_mosquitto(private / "hub")
