"""The kiosk's composition root: configuration in, a running kiosk out. The one place that builds things.

Readers → presenter → session (pure) → commands → hub link (outbox first) / printer (spool first);
hub replies, link state and the catalogue → presenter → session → `View` → the screens (Kivy) or the
headless front end. Nothing here opens a connection before `KioskRuntime.start()`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fidelio.contract import uuid7
from kiosk.config import KioskConfig
from kiosk.hardware.config import build_printer, build_reader
from kiosk.hardware.printer import ReceiptPrinter, VoucherSpool
from kiosk.hardware.reader import CardReader, SimulatedReader, readers_state, readers_text
from kiosk.hardware.voucher_layout import Block, Logo, voucher_layout
from kiosk.link.cache import MemberCache
from kiosk.link.hub_link import HubLink
from kiosk.link.outbox import Outbox
from kiosk.presenter import Presenter
from kiosk.session.machine import Session
from kiosk.session.model import SessionSettings

log = logging.getLogger(__name__)


@dataclass
class KioskRuntime:
    config: KioskConfig
    session: Session
    presenter: Presenter
    link: HubLink
    outbox: Outbox
    cache: MemberCache
    spool: VoucherSpool
    printer: ReceiptPrinter | None
    readers: list[CardReader] = field(default_factory=list)
    shop_name: str = ""

    @property
    def simulated_reader(self) -> SimulatedReader | None:
        return next((r for r in self.readers if isinstance(r, SimulatedReader)), None)

    def start(self) -> None:
        self.link.start()
        for reader in self.readers:
            reader.start(self.presenter.on_card)
        self.presenter.start_polling()

    def stop(self) -> None:
        for reader in self.readers:
            try:
                reader.stop()
            except Exception:
                log.exception("reader did not stop cleanly")
        self.presenter.stop()
        self.link.stop()
        self.outbox.close()


def _storage(path: Path) -> Path:
    """The kiosk's own directory: made 0700 when the kiosk creates it (an existing one, e.g. a shared
    /data, keeps its mode: the files themselves are made 0600 by `_private`)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _private(*files: Path) -> None:
    """The outbox, cache and spool hold customers' names and contact details: owner only. SQLite gives
    its -wal and -shm files the database file's mode."""
    for file in files:
        if file.exists():
            os.chmod(file, 0o600)


def build_kiosk(config: KioskConfig) -> KioskRuntime:
    prov = config.provisioning
    store = _storage(config.storage.dir)
    shop_name = config.display.shop_name or prov.shop
    staff = config.staff
    session = Session(
        SessionSettings(
            kiosk=prov.kiosk,
            default_lang=config.display.lang,
            staff_pin=staff.pin,
            staff_cards=frozenset(staff.cards),
        ),
        new_id=uuid7,
    )
    outbox = Outbox(store / "outbox.sqlite")
    cache = MemberCache(store / "members.sqlite", keep_days=config.storage.member_cache_days)
    spool = VoucherSpool(store / "vouchers.sqlite")
    _private(store / "outbox.sqlite", store / "members.sqlite", store / "vouchers.sqlite")
    printer = build_printer(config.hardware)
    readers = [build_reader(cfg) for cfg in config.hardware.readers]

    logo = Logo(config.display.logo) if config.display.logo is not None else None

    def layout(voucher: dict[str, Any]) -> list[Block]:
        # printed in the language the customer chose on screen
        return voucher_layout(shop_name, voucher, session.view.lang, logo)

    presenter = Presenter(
        session,
        cache=cache,
        spool=spool,
        printer=printer,
        layout=layout,
        readers_state=lambda: readers_state(readers),
        readers_text=lambda: readers_text(readers),
    )
    link = HubLink(
        prov,
        outbox,
        cache,
        on_reply=presenter.on_reply,
        on_state=presenter.on_link_state,
        on_program=presenter.on_program,
    )
    presenter.link = link
    return KioskRuntime(config, session, presenter, link, outbox, cache, spool, printer, readers, shop_name)
