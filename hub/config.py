"""The hub's own configuration, `DIR/config.toml`, written by `init`. Strict: unknown keys are errors."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fidelio.update.keys import DEFAULT_KEYS_DIR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttConfig(_Strict):
    """The hub's own broker user. Host and ports are the broker's (DIR/mosquitto/broker.json)."""

    username: str
    password: str


LOOPBACK = ("127.0.0.1", "::1", "localhost")


class HttpConfig(_Strict):
    """The staff web and HTTP API. Off loopback it is always TLS (the shop CA's certificate); plain HTTP
    is allowed on loopback only (`tls = false` with `bind = "127.0.0.1"`)."""

    port: int = Field(8443, ge=1, le=65535)
    bind: str = "0.0.0.0"
    tls: bool | None = None  # None: TLS unless bound to loopback
    session_hours: int = Field(12, ge=1, le=24 * 30)

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> HttpConfig:
        if self.tls is False and self.bind not in LOOPBACK:
            raise ValueError(
                f"http.tls = false n'est permis que sur 127.0.0.1 (bind = {self.bind!r}) / "
                f"http.tls = false is only allowed on 127.0.0.1 (bind = {self.bind!r})"
            )
        return self

    @property
    def use_tls(self) -> bool:
        return self.tls if self.tls is not None else self.bind not in LOOPBACK


class PrivacyConfig(_Strict):
    policy_version: str = "1"


class UpdatesConfig(_Strict):
    """Software updates (hub/updates.py): the folder of public release keys bundles must be signed by."""

    release_keys: str = str(DEFAULT_KEYS_DIR)

    @property
    def keys_dir(self) -> Path:
        return Path(self.release_keys)


class HubConfig(_Strict):
    shop: str
    mqtt: MqttConfig
    http: HttpConfig = HttpConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    updates: UpdatesConfig = UpdatesConfig()


class ConfigError(RuntimeError):
    pass


class HubPaths:
    """Where everything of one hub lives under its data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir)
        self.config = self.root / "config.toml"
        self.program = self.root / "program.toml"
        self.ledger = self.root / "ledger.sqlite"
        self.mosquitto = self.root / "mosquitto"
        self.mosquitto_conf = self.mosquitto / "mosquitto.conf"
        self.ca_cert = self.mosquitto / "ca.crt"
        self.web = self.root / "web"
        self.web_cert = self.web / "tls.crt"
        self.web_key = self.web / "tls.key"


def load_config(paths: HubPaths) -> HubConfig:
    if not paths.config.exists():
        raise ConfigError(
            f"Pas de configuration dans {paths.root} : lancez « fidelio-hub --data {paths.root} init --shop ID ». / "
            f"No configuration in {paths.root}: run 'fidelio-hub --data {paths.root} init --shop ID'."
        )
    try:
        data = tomllib.loads(paths.config.read_text(encoding="utf-8"))
        return HubConfig.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{paths.config}: TOML invalide / invalid TOML: {exc}") from exc
    except ValidationError as exc:
        lines = [
            f"{paths.config}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError("Configuration invalide / invalid configuration:\n" + "\n".join(lines)) from exc


def write_config(paths: HubPaths, config: HubConfig) -> None:
    """Written 0600: it holds the hub's broker password."""
    tmp = paths.config.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a leftover temporary file
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(config.model_dump(exclude_none=True), fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, paths.config)
