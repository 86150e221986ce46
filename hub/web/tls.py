"""The staff web's TLS certificate, issued by the shop's own CA (the one kiosks already trust)."""

from __future__ import annotations

import os
from pathlib import Path

from hub.broker import BrokerPaths, load_settings
from hub.broker.pki import KeyPair, create_server_cert, server_names
from hub.config import HubPaths


def ensure_web_certificate(paths: HubPaths) -> tuple[Path, Path]:
    """DIR/web/tls.crt and tls.key (0600), made from the shop CA on first need; (cert, key)."""
    if paths.web_cert.exists() and paths.web_key.exists():
        return paths.web_cert, paths.web_key
    broker = BrokerPaths(paths.root)
    ca = KeyPair(broker.ca_key.read_bytes(), broker.ca_crt.read_bytes())
    pair = create_server_cert(ca, server_names(load_settings(paths.root).mqtt_host))
    paths.web.mkdir(mode=0o700, exist_ok=True)
    _write(paths.web_key, pair.key_pem, 0o600)
    _write(paths.web_cert, pair.cert_pem, 0o644)
    return paths.web_cert, paths.web_key


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
