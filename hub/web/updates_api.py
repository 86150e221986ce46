"""`/updates/v1`: where kiosks get their software updates from the hub, with no internet at the kiosk.

A kiosk authenticates with HTTP Basic and its own broker credentials (the `[mqtt]` username and password
of its provisioning file), checked against the broker's password file and the kiosk registry: only an
active kiosk gets in (a revoked one has no password any more; the hub's own broker user is no kiosk).
No cookie, so no CSRF to guard against; failed guesses are throttled per address.

- `GET /target?python=3.11&platform=linux_aarch64`: the version to run and its bundle for that device;
- `GET /bundles/{file}`: the bundle itself (only the exact names the store lists);
- `POST /report`: what the kiosk's last update attempt did, kept as its latest report.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from fidelio.update.errors import UpdateError
from hub.broker import BrokerError, BrokerPaths, kiosk_list, kiosk_username
from hub.broker.passwords import hash_password, parse_password_file, verify_password
from hub.updates import UpdateStore
from hub.web.context import WebContext
from hub.web.security import client_address
from hub.web.throttle import Throttle

REALM = 'Basic realm="fidelio-updates"'
MAX_REPORT_BYTES = 16 * 1024

TEXTS: dict[str, tuple[str, str]] = {
    "unauthorized": (
        "Identifiants de borne absents ou invalides.",
        "Missing or invalid kiosk credentials.",
    ),
    "throttled": (
        "Trop d'essais : réessayez dans {seconds} s.",
        "Too many attempts: try again in {seconds} s.",
    ),
    "not_found": ("Cette adresse n'existe pas.", "No such address."),
    "no_bundle": ("Ce paquet n'est pas sur le hub.", "This bundle is not on the hub."),
    "method_not_allowed": ("Méthode non permise ici.", "Method not allowed here."),
    "too_large": (
        f"Rapport trop gros ({MAX_REPORT_BYTES // 1024} Kio au plus).",
        f"Report too large ({MAX_REPORT_BYTES // 1024} KiB at most).",
    ),
    "malformed": ("Requête invalide : {detail}", "Invalid request: {detail}"),
    "registry_unreadable": (
        "Le hub ne peut pas lire la liste de ses bornes : {detail}",
        "The hub cannot read its kiosk list: {detail}",
    ),
}


class UpdatesApiError(Exception):
    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None, **values: Any) -> None:
        super().__init__(code)
        fr, en = TEXTS[code]
        self.status, self.code, self.headers = status, code, headers
        self.fr, self.en = fr.format(**values), en.format(**values)

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.fr, self.en, self.headers)


def error_response(
    status: int, code: str, fr: str, en: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "fr": fr, "en": en}}, status_code=status, headers=headers)


# -- who is asking -------------------------------------------------------------------------------------
@functools.cache
def _decoy_hash() -> str:
    """Checked when the user is unknown, so a wrong name costs what a wrong password costs."""
    return hash_password(secrets.token_urlsafe(16))


def kiosk_of_credentials(data: Path, username: str, password: str) -> str | None:
    """The id of the active kiosk whose broker user and password these are, else None."""
    active = {kiosk_username(r["id"]): r["id"] for r in kiosk_list(data) if r.get("revoked_at") is None}
    hashes = parse_password_file(BrokerPaths(data).passwd.read_text(encoding="utf-8"))
    kiosk = active.get(username)
    encoded = hashes.get(username) if kiosk is not None else None
    matches = verify_password(password, encoded or _decoy_hash())
    return kiosk if matches and encoded is not None else None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header; ("", "") when it is there but unreadable."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return ("", "")
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return (user, password) if sep else ("", "")


# -- the report a kiosk sends --------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportResult(_Strict):
    state: Literal["installed", "rolled_back", "refused", "failed", "up_to_date", "deferred"]
    version: str | None = Field(None, max_length=64)
    code: str | None = Field(None, max_length=64)
    fr: str | None = Field(None, max_length=2000)
    en: str | None = Field(None, max_length=2000)
    at: str = Field(max_length=40, description="the device's clock, ISO 8601 (not trusted for anything)")

    @field_validator("at")
    @classmethod
    def _iso(cls, value: str) -> str:
        datetime.fromisoformat(value)  # ValueError: a pydantic error naming the field
        return value


class ReportIn(_Strict):
    running: str = Field(max_length=64)
    result: ReportResult


def build_updates_api(ctx: WebContext, throttle: Throttle | None = None) -> FastAPI:
    """The sub-application mounted at `/updates/v1` (its errors are JSON, never the staff pages)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    guesses = throttle or Throttle(time.monotonic, free=5, base_s=1.0, max_s=600.0)

    def store() -> UpdateStore:
        assert ctx.data is not None
        return UpdateStore(ctx.data)

    def authenticate(request: Request) -> str:
        creds = basic_credentials(request)
        if creds is None:  # no attempt yet (clients send credentials after the challenge): not a guess
            raise UpdatesApiError(401, "unauthorized", {"WWW-Authenticate": REALM})
        key = f"addr:{client_address(request)}"
        wait = guesses.wait_for(key)
        if wait > 0:
            seconds = int(wait) + 1
            raise UpdatesApiError(429, "throttled", {"Retry-After": str(seconds)}, seconds=seconds)
        assert ctx.data is not None
        try:
            kiosk = kiosk_of_credentials(ctx.data, *creds)
        except (OSError, ValueError, KeyError, BrokerError) as exc:
            raise UpdatesApiError(503, "registry_unreadable", detail=str(exc)) from exc
        if kiosk is None:
            guesses.failure(key)
            raise UpdatesApiError(401, "unauthorized", {"WWW-Authenticate": REALM})
        guesses.success(key)
        return kiosk

    @app.exception_handler(UpdatesApiError)
    def _api_error(_request: Request, exc: UpdatesApiError) -> Response:
        return exc.response()

    @app.exception_handler(UpdateError)
    def _update_error(_request: Request, exc: UpdateError) -> Response:
        return error_response(422 if exc.code == "bad_query" else 500, exc.code, exc.fr, exc.en)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        if code is None:
            return UpdatesApiError(exc.status_code, "malformed", detail=str(exc.detail)).response()
        return UpdatesApiError(exc.status_code, code).response()

    @app.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        return UpdatesApiError(422, "malformed", detail=str(exc.errors()[:3])).response()

    @app.get("/target")
    def target(request: Request) -> Response:
        authenticate(request)
        python = request.query_params.get("python", "")
        platform = request.query_params.get("platform", "")
        answer = store().target_for(python, platform)
        answer.pop("path", None)  # the hub's own updater reads it locally; a kiosk has no use for it
        return JSONResponse(answer)

    @app.get("/bundles/{file}")
    def bundle(request: Request, file: str) -> Response:
        authenticate(request)
        path = store().bundle_path(file)
        if path is None:
            raise UpdatesApiError(404, "no_bundle")
        return FileResponse(path, media_type="application/octet-stream", filename=path.name)

    @app.post("/report")
    async def report(request: Request) -> Response:
        kiosk = await run_in_threadpool(authenticate, request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_REPORT_BYTES:
            raise UpdatesApiError(413, "too_large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REPORT_BYTES:
                raise UpdatesApiError(413, "too_large")
        try:
            parsed = ReportIn.model_validate_json(bytes(body))
        except ValidationError as exc:
            errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3]]
            raise UpdatesApiError(422, "malformed", detail="; ".join(errors)) from exc
        row = await run_in_threadpool(store().record_report, kiosk, parsed.model_dump(), ctx.now())
        return JSONResponse({"stored": True, "kiosk": kiosk, "received_at": row["received_at"]})

    return app
