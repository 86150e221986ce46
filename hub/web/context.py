"""What the web's routes share: the read side, the single writer, settings, throttles."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from fidelio.contract import Request
from hub.config import HttpConfig
from hub.ledger import Applied, Ledger, iso
from hub.ledger.reads import LedgerReader
from hub.service.service import WriterUnavailable
from hub.web.audit import Actor, record, write_one
from hub.web.throttle import Throttle

T = TypeVar("T")


class Writer(Protocol):
    """The hub service's single ledger writer (`HubService`): every write of the web goes through it."""

    def submit(self, fn: Callable[[Ledger], T]) -> Future[T]: ...

    def submit_requests(self, requests: Sequence[Request]) -> Future[list[Applied]]: ...

    def publish_program(self) -> None: ...


class HubBusy(RuntimeError):
    """The writer did not answer in time (ledger failing, hub stopping): nothing is known to be applied."""


def _login_throttle() -> Throttle:
    return Throttle(time.monotonic, free=3, base_s=2.0, max_s=900.0)


def _voucher_throttle() -> Throttle:
    return Throttle(time.monotonic, free=5, base_s=2.0, max_s=600.0)


def _key_throttle() -> Throttle:
    return Throttle(time.monotonic, free=5, base_s=1.0, max_s=600.0)


@dataclass
class WebContext:
    shop: str
    reader: LedgerReader
    writer: Writer
    http: HttpConfig
    ca_pem: bytes | None = None
    #: The hub's data directory (kiosk provisioning: hub/broker) and the kiosks' last status messages.
    data: Path | None = None
    kiosk_status: Callable[[], dict[str, dict[str, Any]]] = dict
    write_timeout_s: float = 15.0
    login_throttle: Throttle = field(default_factory=_login_throttle)
    voucher_throttle: Throttle = field(default_factory=_voucher_throttle)
    key_throttle: Throttle = field(default_factory=_key_throttle)

    @property
    def program(self) -> Any:
        return self.reader.program

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.program.summary()["timezone"])

    def now(self) -> datetime:
        return self.reader.clock()

    def write(self, fn: Callable[[Ledger], T]) -> T:
        """Run `fn` on the writer and wait for its commit."""
        return self._wait(lambda: self.writer.submit(fn))

    def apply(self, requests: Sequence[Request]) -> list[Applied]:
        """Apply requests through the writer (same batches as the kiosks'); wait for the commit."""
        return self._wait(lambda: self.writer.submit_requests(requests))

    def _wait(self, submit: Callable[[], Future[T]]) -> T:
        try:
            return submit().result(timeout=self.write_timeout_s)
        except (FutureTimeout, TimeoutError):
            raise HubBusy("the ledger writer did not answer in time") from None
        except WriterUnavailable as exc:
            raise HubBusy(str(exc)) from exc

    def audit(self, actor: Actor, action: str, target: str | None = None,
              detail: dict[str, Any] | None = None, wait: bool = False) -> None:  # fmt: skip
        """An audit line on its own (for actions that write nothing else: a view, a failed login)."""

        def job(ledger: Ledger) -> None:
            write_one(ledger.conn, iso(ledger.clock()), actor, action, target, detail)

        if wait:
            self._wait(lambda: self.writer.submit(job))
        else:
            with contextlib.suppress(
                WriterUnavailable
            ):  # not waited for: a page view need not wait for the disk
                self.writer.submit(job)


__all__ = ["Actor", "HubBusy", "WebContext", "Writer", "record"]
