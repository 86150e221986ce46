"""A whole hub with its staff web for the web tests: the real broker, the real hub service (its single
writer), the web on a free loopback port, staff accounts and API keys, members made by a real kiosk."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hub.app import open_web
from hub.broker.process import free_port
from hub.config import HubPaths, load_config, write_config
from hub.ledger import iso
from hub.ledger.schema import connect, transaction
from hub.web.accounts import add_user
from hub.web.apikeys import add_key
from tests.support import HubHarness

PASSWORDS = {"alice": "alice-at-the-till", "marc": "marc-the-manager", "ada": "ada-the-admin-1"}
ROLES = {"alice": "staff", "marc": "manager", "ada": "admin"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"


@dataclass
class WebHub:
    harness: HubHarness
    web: object
    connections: object
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.web.url  # type: ignore[attr-defined]

    @property
    def data(self) -> Path:
        return self.harness.data

    def db(self) -> sqlite3.Connection:
        """A connection of the test's own, to look at what the hub wrote (reads only)."""
        return sqlite3.connect(f"file:{HubPaths(self.data).ledger}?mode=ro", uri=True)

    def add_key(self, name: str, scopes: list[str]) -> str:
        conn = connect(HubPaths(self.data).ledger)
        try:
            with transaction(conn):
                key = add_key(conn, name, scopes, datetime.now(UTC))
        finally:
            conn.close()
        self.keys[name] = key
        return key

    def insert_expired_voucher(self, member_code: str, code: str) -> None:
        """A voucher issued and expired a year ago (hub time is real time here), written by the writer."""

        def job(ledger):
            with transaction(ledger.conn):
                mid = ledger.conn.execute("SELECT id FROM members WHERE code = ?", (member_code,)).fetchone()[
                    0
                ]
                ledger.conn.execute(
                    "INSERT INTO vouchers (code, member_id, reward_id, name, value, issued_at, expires_at) "
                    'VALUES (?, ?, \'bon-5\', \'{"fr": "Bon de 5 €", "en": "5 € voucher"}\', '
                    '\'{"kind": "amount_off", "amount_cents": 500}\', ?, ?)',
                    (code, mid, iso(datetime(2025, 1, 2, tzinfo=UTC)), iso(datetime(2025, 2, 1, tzinfo=UTC))),
                )

        self.harness.service.submit(job).result(10)  # type: ignore[union-attr]


@contextmanager
def running_web_hub(*, tls: bool = False) -> Iterator[WebHub]:
    """Broker + hub service + web on 127.0.0.1 (plain HTTP, or TLS with the shop CA's certificate)."""
    harness = HubHarness()
    paths = HubPaths(harness.data)
    config = load_config(paths)
    http = config.http.model_copy(update={"bind": "127.0.0.1", "tls": tls, "port": free_port()})
    write_config(paths, config.model_copy(update={"http": http}))
    conn = connect(paths.ledger)
    try:
        with transaction(conn):
            for name, password in PASSWORDS.items():
                add_user(conn, name, ROLES[name], password, datetime.now(UTC))
    finally:
        conn.close()
    web = None
    try:
        harness.start_broker()
        service = harness.start_service()
        web, connections = open_web(harness.data, service)
        web.start()  # type: ignore[attr-defined]
        yield WebHub(harness, web, connections)
    finally:
        if web is not None:
            web.stop()  # type: ignore[attr-defined]
            connections.close()  # type: ignore[attr-defined]
        harness.close()


def seed_members(hub: WebHub) -> dict[str, dict]:
    """Members made the way a shop makes them: enrolments, visits, purchases, a redemption, all through a
    real kiosk over MQTT. Returns what the tests need (codes, cards, a voucher)."""
    kiosk = hub.harness.kiosk("comptoir")
    people = {
        "camille": ("pcsc:04CA0001", {"first_name": "Camille", "email": "camille@example.fr", "phone": "06 12 34 56 78",
                                      "consents": {"email": True, "sms": False}}),
        "eloise": ("pcsc:04E10002", {"first_name": "Éloïse", "email": "eloise.d@example.fr", "phone": "+33 7 88 99 00 11",
                                     "birth_date": "1990-05-17", "consents": {"email": False, "sms": True}}),
        "camelia": ("pcsc:04CA0003", {"first_name": "Camélia", "consents": {"email": False, "sms": False}}),
    }  # fmt: skip
    out: dict[str, dict] = {}
    for key, (card, body) in people.items():
        reply = kiosk.request("enrol", card, body)
        assert reply["ok"], reply
        out[key] = {"card": card, "code": reply["member"]["code"], **body}
    camille = out["camille"]["card"]
    assert kiosk.request("tap", camille)["ok"]
    assert kiosk.request("purchase", camille, {"amount_cents": 12_000, "receipt": "T-0042"})["ok"]
    redeemed = kiosk.request("redeem", camille, {"reward": "bon-5"})
    assert redeemed["ok"], redeemed
    out["camille"]["voucher"] = redeemed["voucher"]["code"]
    again = kiosk.request("redeem", camille, {"reward": "cafe-offert"})
    assert again["ok"], again
    out["camille"]["voucher2"] = again["voucher"]["code"]
    return out


def points(hub: WebHub, code: str) -> int:
    """A member's points as the ledger has them (the test's own read-only connection)."""
    with hub.db() as db:
        return db.execute("SELECT points FROM members WHERE code = ?", (code,)).fetchone()[0]
