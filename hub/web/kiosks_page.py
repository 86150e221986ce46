"""The kiosks page: online or not, offline queue, reader and printer (from their retained status
messages), add a kiosk (its provisioning file offered once, as a download and as a QR code), revoke one.

Adding and revoking are admin actions (they make or remove broker credentials) through hub/broker, the
same code as `fidelio-hub kiosk add/revoke`; the broker is told to reload.
"""

from __future__ import annotations

import base64
import io
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.broker import BrokerError, kiosk_add, kiosk_list, kiosk_revoke
from hub.web.context import WebContext
from hub.web.i18n import has, text
from hub.web.security import Cookies, actor, check_csrf, require

PROVISION_TTL_S = 600


class OneTimeFiles:
    """A provisioning file kept in memory for one download within `ttl` seconds (never on disk)."""

    def __init__(self, ttl: float = PROVISION_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._files: dict[str, tuple[float, str, str]] = {}
        self._lock = threading.Lock()

    def put(self, kiosk: str, text: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            self._files = {k: v for k, v in self._files.items() if v[0] > now}
            self._files[token] = (now + self.ttl, kiosk, text)
        return token

    def take(self, token: str) -> tuple[str, str] | None:
        with self._lock:
            entry = self._files.pop(token, None)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1], entry[2]


def qr_data_uri(text: str) -> str:
    """The text as a QR code, an SVG data: URI (the page's CSP allows data: images)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=6, border=4)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def reader_words(value: object, lang: str) -> str:
    """The status's `reader` ("ok: pcsc", "absent: pcsc; ok: hid", kiosk/hardware/reader.py) in words."""
    if not isinstance(value, str) or not value:
        return "—"
    if value == "none":
        return text("kiosks.reader.none", lang)
    parts = []
    for part in value.split("; "):
        state, _, names = part.partition(": ")
        key = f"kiosks.reader.{state}"
        label = text(key, lang) if has(key) else state
        parts.append(f"{label} ({names})" if names else label)
    return (" ; " if lang == "fr" else "; ").join(parts)  # French puts a space before the semicolon


def printer_words(value: object, lang: str) -> str:
    """The status's `printer` (a PrinterState value, kiosk/hardware/printer.py) in words."""
    if not isinstance(value, str) or not value:
        return "—"
    key = f"kiosks.printer.{value}"
    return text(key, lang) if has(key) else value


def kiosk_rows(ctx: WebContext) -> list[dict[str, Any]]:
    """Every kiosk of the registry, with its last status (state: online | offline | lost | unknown)."""
    assert ctx.data is not None
    statuses = ctx.kiosk_status()
    rows = []
    for row in kiosk_list(ctx.data):
        seen = statuses.get(row["id"], {})
        status = seen.get("status", {})
        state = status.get("state", "unknown") if row.get("revoked_at") is None else "revoked"
        rows.append({**row, "state": state, "queue": status.get("queue"), "reader": status.get("reader"),
                     "printer": status.get("printer"), "seen_at": seen.get("received_at")})  # fmt: skip
    return rows


def add_kiosk_pages(router: APIRouter, ctx: WebContext, cookies: Cookies, render: Callable[..., Response],
                    lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    files = OneTimeFiles()

    def page(request: Request, session: Any, status: int = 200, **values: Any) -> Response:
        values = {"added": None, "error": None, "revoked": "", **values}
        lang = lang_of(request)
        return render(request, "kiosks.html", status, session=session, kiosks=kiosk_rows(ctx),
                      reader_words=lambda v: reader_words(v, lang), printer_words=lambda v: printer_words(v, lang),
                      **values)  # fmt: skip

    @router.get("/kiosks")
    def kiosks(request: Request, revoked: str = "") -> Response:
        session = require(ctx, request, cookies, role="manager")
        return page(request, session, revoked=revoked)

    @router.post("/kiosks")
    def add(request: Request, kiosk: Annotated[str, Form(max_length=40)] = "",
            csrf: Annotated[str, Form(max_length=128)] = "") -> Response:  # fmt: skip
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        assert ctx.data is not None
        kiosk = kiosk.strip().lower()
        with tempfile.TemporaryDirectory(prefix="fidelio-provision-") as scratch:
            out = Path(scratch) / "kiosk.toml"
            try:
                kiosk_add(ctx.data, kiosk, out)
            except BrokerError as exc:
                message = exc.fr if lang_of(request) == "fr" else exc.en
                return page(request, session, 422, error=message)
            content = out.read_text(encoding="utf-8")
        ctx.audit(actor(session.user, request), "kiosk.add", kiosk, wait=True)
        token = files.put(kiosk, content)
        added = {"id": kiosk, "token": token, "qr": qr_data_uri(content)}
        return page(request, session, 201, added=added)

    @router.get("/kiosks/provision/{token}")
    def provision(request: Request, token: str) -> Response:
        session = require(ctx, request, cookies, role="admin")
        found = files.take(token)
        if found is None:
            return render(request, "error.html", 410, session=session, title="kiosks.gone_title",
                          message=text("kiosks.gone", lang_of(request)))  # fmt: skip
        kiosk, content = found
        ctx.audit(actor(session.user, request), "kiosk.provision_download", kiosk)
        return Response(content.encode(), media_type="application/toml",
                        headers={"Content-Disposition": f'attachment; filename="{kiosk}.toml"'})  # fmt: skip

    @router.post("/kiosks/{kiosk}/revoke")
    def revoke(request: Request, kiosk: str, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        assert ctx.data is not None
        try:
            kiosk_revoke(ctx.data, kiosk)
        except BrokerError as exc:
            return page(request, session, 422, error=exc.fr if lang_of(request) == "fr" else exc.en)
        ctx.audit(actor(session.user, request), "kiosk.revoke", kiosk, wait=True)
        return RedirectResponse("/kiosks?revoked=" + kiosk, status_code=303)
