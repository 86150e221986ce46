"""The staff web and the HTTP API as one ASGI application (FastAPI on Starlette)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.web.api import ApiError, build_api
from hub.web.context import HubBusy, WebContext
from hub.web.i18n import pick_lang, text
from hub.web.pages import build_pages
from hub.web.security import Cookies, CsrfRefused, Forbidden, LoginRequired
from hub.web.updates_api import build_updates_api

STATIC = Path(__file__).parent / "static"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    """Headers on every answer: no framing, no sniffing, no referrer (codes stay on this page), no cache
    of pages with personal data; HSTS over TLS."""

    def __init__(self, app: ASGIApp, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"no-referrer",
                    b"content-security-policy": _CSP.encode(),
                    b"cross-origin-opener-policy": b"same-origin",
                }
                if not static:
                    extra[b"cache-control"] = b"no-store"
                if self.tls:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(ctx: WebContext) -> ASGIApp:
    cookies = Cookies(secure=ctx.http.use_tls)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    pages = build_pages(ctx, cookies)
    app.include_router(pages)
    app.mount("/api/v1", build_api(ctx))
    app.mount("/updates/v1", build_updates_api(ctx))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    render = pages.render  # type: ignore[attr-defined]

    def error_page(request: Request, status: int, title: str, message: str) -> Response:
        session = pages.current(request)  # type: ignore[attr-defined]
        return render(request, "error.html", status, session=session, title=title, message=message)

    def lang(request: Request) -> str:
        return pick_lang(request.cookies.get(cookies.lang))

    @app.exception_handler(LoginRequired)
    def _login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        response = RedirectResponse(f"/login?next={target}" if target != "/" else "/login", status_code=303)
        return response

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        role = text(f"role.{exc.role}", lang(request))
        return error_page(
            request, 403, "error.forbidden.title", text("error.forbidden", lang(request), role=role)
        )

    @app.exception_handler(CsrfRefused)
    def _csrf(request: Request, _exc: CsrfRefused) -> Response:
        return error_page(request, 403, "error.csrf.title", text("error.csrf", lang(request)))

    @app.exception_handler(HubBusy)
    def _busy(request: Request, _exc: HubBusy) -> Response:
        return error_page(request, 503, "error.busy.title", text("error.busy", lang(request)))

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):  # a path the API's mount does not match (e.g. a newline)
            return ApiError(
                exc.status_code, "not_found" if exc.status_code == 404 else "malformed"
            ).response()
        if exc.status_code == 404:
            return error_page(request, 404, "error.not_found.title", text("error.not_found", lang(request)))
        return error_page(request, exc.status_code, "error.not_found.title", str(exc.detail))

    return SecurityHeaders(app, ctx.http.use_tls)
