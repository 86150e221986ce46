"""The updates page (admins): the hub's version, the version deployed, the imported bundles, what each
kiosk runs (its retained status) and its last update report; upload a bundle, deploy a version, cancel.

The same store as `fidelio-hub update …` (hub/updates.py); kiosks fetch from `/updates/v1`
(hub/web/updates_api.py). Every change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fidelio.update.errors import UpdateError
from hub.broker import BrokerError
from hub.updates import UpdateStore
from hub.web.backups_page import human_size
from hub.web.context import WebContext
from hub.web.i18n import text
from hub.web.kiosks_page import kiosk_rows
from hub.web.security import Cookies, actor, check_csrf, require

MAX_BUNDLE_BYTES = 2 * 1024**3
_FILE = re.compile(r"^fidelio-[0-9A-Za-z.+!_-]{1,64}-py\d+\.\d+-[a-z0-9_]{1,64}\.fidelio$")
_VERSION = re.compile(r"^[0-9A-Za-z.+!_-]{1,64}$")


def hub_version() -> str:
    """The fidelio release this hub process runs (the installed distribution's version)."""
    try:
        return installed_version("fidelio")
    except PackageNotFoundError:
        return "?"


def report_words(report: dict[str, Any] | None, lang: str) -> str:
    """A kiosk's last update report in a sentence."""
    if not report or not isinstance(report.get("result"), dict):
        return text("updates.report.none", lang)
    result = report["result"]
    state = result.get("state")
    key = f"updates.report.{state}"
    reason = result.get(lang) or result.get("en") or result.get("code") or "—"
    version = result.get("version") or report.get("running") or "?"
    try:
        return text(key, lang, version=version, reason=reason)
    except KeyError:
        return str(state)


def add_update_pages(router: APIRouter, ctx: WebContext, cookies: Cookies, render: Callable[..., Response],
                     lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    def store() -> UpdateStore:
        assert ctx.data is not None
        return UpdateStore(ctx.data)

    def words(exc: UpdateError | BrokerError, lang: str) -> str:
        return exc.fr if lang == "fr" else exc.en

    def kiosks(updates: UpdateStore) -> list[dict[str, Any]]:
        statuses = ctx.kiosk_status()
        reports = updates.reports()
        rows = []
        for row in kiosk_rows(ctx):
            if row["state"] == "revoked":
                continue
            status = statuses.get(row["id"], {}).get("status", {})
            version = status.get("version")
            report = reports.get(row["id"])
            rows.append({**row, "version": version if isinstance(version, str) else None, "report": report,
                         "reported_at": (report or {}).get("received_at")})  # fmt: skip
        return rows

    def page(request: Request, session: Any, status: int = 200, **values: Any) -> Response:
        lang = lang_of(request)
        updates = store()
        values = {"error": None, "done": None, **values}
        target, target_error = None, None
        try:
            target = updates.target()
        except UpdateError as exc:
            target_error = words(exc, lang)
        bundles = updates.bundles()
        versions = list(dict.fromkeys(r.bundle.manifest.version for r in bundles if r.bundle))
        try:
            kiosk_list = kiosks(updates)
        except BrokerError as exc:
            kiosk_list, values["error"] = [], values["error"] or words(exc, lang)
        return render(request, "updates.html", status, session=session, hub_version=hub_version(),
                      hub_last=updates.hub_last_update(), target=target, target_error=target_error, bundles=bundles, versions=versions,
                      kiosks=kiosk_list, report_words=lambda r: report_words(r, lang),
                      size=lambda n: human_size(n, lang), why=lambda e: words(e, lang), **values)  # fmt: skip

    @router.get("/updates")
    def updates(request: Request, imported: str = "", already: str = "", deployed: str = "",
                cancelled: str = "", removed: str = "") -> Response:  # fmt: skip
        session = require(ctx, request, cookies, role="admin")
        lang = lang_of(request)
        done = None
        if _FILE.match(imported):
            done = text("updates.imported_again" if already else "updates.imported", lang, file=imported)
        elif _VERSION.match(deployed):
            done = text("updates.deployed", lang, version=deployed)
        elif _FILE.match(removed):
            done = text("updates.removed", lang, file=removed)
        elif cancelled == "?" or _VERSION.match(cancelled):  # "?": an unreadable target.json removed
            done = text("updates.cancelled", lang, version=cancelled)
        return page(request, session, done=done)

    @router.post("/updates/import")
    def upload(
        request: Request,
        csrf: Annotated[str, Form(max_length=128)] = "",
        upload: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        lang = lang_of(request)
        if upload is None or not upload.filename:
            return page(request, session, 422, error=text("updates.choose_file", lang))
        source = f"upload:{upload.filename[:80]}"
        try:
            done = store().import_stream(upload.file, MAX_BUNDLE_BYTES)
        except UpdateError as exc:
            ctx.audit(actor(session.user, request), "update.import_refused", source,
                      {"code": exc.code, "reason": exc.en}, wait=True)  # fmt: skip
            message = text("updates.import_refused", lang, reason=words(exc, lang))
            return page(request, session, 413 if exc.code == "too_large" else 422, error=message)
        manifest = done.bundle.manifest
        detail = {"version": manifest.version, "python": manifest.python, "platform": manifest.platform,
                  "key_id": manifest.key_id, "sha256": done.bundle.sha256, "already": done.already,
                  "source": source}  # fmt: skip
        ctx.audit(actor(session.user, request), "update.import", manifest.file_name(), detail, wait=True)
        again = "&already=1" if done.already else ""
        return RedirectResponse(f"/updates?imported={manifest.file_name()}{again}", status_code=303)

    @router.post("/updates/deploy")
    def deploy(
        request: Request,
        csrf: Annotated[str, Form(max_length=128)] = "",
        version: Annotated[str, Form(max_length=64)] = "",
        allow_downgrade: Annotated[str, Form(max_length=8)] = "",
    ) -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        who = actor(session.user, request)
        try:
            target = store().set_target(version.strip(), allow_downgrade=allow_downgrade == "yes",
                                        set_by=who.id, now=ctx.now())  # fmt: skip
        except UpdateError as exc:
            return page(request, session, 422, error=words(exc, lang_of(request)))
        ctx.audit(who, "update.deploy", target["version"], {"allow_downgrade": target["allow_downgrade"]},
                  wait=True)  # fmt: skip
        return RedirectResponse(f"/updates?deployed={target['version']}", status_code=303)

    @router.post("/updates/cancel")
    def cancel(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        previous = store().clear_target()
        if previous is None:
            return page(request, session, 409, error=text("updates.nothing_to_cancel", lang_of(request)))
        version = previous["version"] or "?"
        ctx.audit(actor(session.user, request), "update.cancel", version, wait=True)
        return RedirectResponse(f"/updates?cancelled={version}", status_code=303)

    @router.post("/updates/remove")
    def remove(
        request: Request,
        csrf: Annotated[str, Form(max_length=128)] = "",
        file: Annotated[str, Form(max_length=256)] = "",
        confirm: Annotated[str, Form(max_length=8)] = "",
    ) -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        if confirm != "yes":
            return page(request, session, 422, error=text("updates.remove_confirm_missing", lang_of(request)))
        try:
            row = store().remove(file)
        except UpdateError as exc:
            status = 409 if exc.code == "deployed" else 404
            return page(request, session, status, error=words(exc, lang_of(request)))
        ctx.audit(actor(session.user, request), "update.remove", row.file, wait=True)
        return RedirectResponse(f"/updates?removed={row.file}", status_code=303)
