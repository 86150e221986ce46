"""The backups page (admins): an online backup on demand (hub/backup.py, the same code as `fidelio-hub
backup`), the list with size and time, download, the nightly run's last result and retention, and a
restore from the list or an uploaded file, checked before it replaces anything (hub/restore.py), swapped
on the hub's single writer."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from hub.backup import DEFAULT_KEEP, NAME, BackupError, backup_dir, backup_ledger, backups_in
from hub.ledger import Ledger, iso
from hub.restore import RestoreRefused, check_candidate, read_last_run, restore_on_writer
from hub.web.audit import write_one
from hub.web.context import WebContext
from hub.web.i18n import text
from hub.web.security import Cookies, actor, check_csrf, require

MAX_UPLOAD_BYTES = 4 * 1024**3
_CHUNK = 1024 * 1024


def backup_rows(directory: Path) -> list[dict[str, Any]]:
    """The backups, newest first: name, size in bytes, time (UTC, from the name)."""
    rows = []
    for path in reversed(backups_in(directory)):
        taken = datetime.strptime(path.name[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        rows.append({"name": path.name, "size": path.stat().st_size, "at": iso(taken)})
    return rows


def human_size(size: int, lang: str) -> str:
    units = ("o", "Ko", "Mo", "Go") if lang == "fr" else ("B", "KB", "MB", "GB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    shown = f"{value:.0f}" if unit == 0 else f"{value:.1f}"
    return f"{shown.replace('.', ',') if lang == 'fr' else shown} {units[unit]}"


def add_backup_pages(router: APIRouter, ctx: WebContext, cookies: Cookies, render: Callable[..., Response],
                     lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    def data() -> Path:
        assert ctx.data is not None
        return ctx.data

    def retention() -> int:
        last = read_last_run(data()) or {}
        keep = last.get("keep")
        return keep if isinstance(keep, int) and keep > 0 else DEFAULT_KEEP

    def page(request: Request, session: Any, status: int = 200, **values: Any) -> Response:
        lang = lang_of(request)
        values = {"error": None, "faults": [], "made": "", "restored": "", **values}
        return render(request, "backups.html", status, session=session, backups=backup_rows(backup_dir(data())),
                      last_run=read_last_run(data()), keep=retention(),
                      size=lambda n: human_size(n, lang), **values)  # fmt: skip

    @router.get("/backups")
    def backups(request: Request, made: str = "", restored: str = "") -> Response:
        session = require(ctx, request, cookies, role="admin")
        return page(request, session, made=made if NAME.match(made) else "", restored=restored[:40])

    @router.post("/backups")
    def make(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        try:
            result = backup_ledger(data(), keep=retention())
        except BackupError as exc:
            return page(request, session, 500, error=str(exc))
        ctx.audit(actor(session.user, request), "backup.create", result.path.name,
                  {"events": result.events, "removed": [p.name for p in result.removed]}, wait=True)  # fmt: skip
        return RedirectResponse(f"/backups?made={result.path.name}", status_code=303)

    @router.get("/backups/file/{name}")
    def download(request: Request, name: str) -> Response:
        session = require(ctx, request, cookies, role="admin")
        path = backup_dir(data()) / name
        if not NAME.match(name) or not path.is_file():
            return page(request, session, 404, error=f"{name} ?")
        ctx.audit(actor(session.user, request), "backup.download", name, wait=True)
        return FileResponse(path, media_type="application/vnd.sqlite3", filename=f"fidelio-{name}")

    @router.post("/backups/restore")
    def restore(
        request: Request,
        csrf: Annotated[str, Form(max_length=128)] = "",
        name: Annotated[str, Form(max_length=64)] = "",
        confirm: Annotated[str, Form(max_length=8)] = "",
        upload: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        session = require(ctx, request, cookies, role="admin")
        check_csrf(session.csrf, csrf)
        lang = lang_of(request)
        if confirm != "yes":
            return page(request, session, 422, error=text("backups.confirm_missing", lang))
        scratch: Path | None = None
        try:
            if upload is not None and upload.filename:
                scratch = backup_dir(data()) / f".upload-{secrets.token_hex(8)}.sqlite"
                scratch.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not _save_upload(upload, scratch):
                    return page(request, session, 413, error=text("backups.too_large", lang))
                candidate, source = scratch, f"upload:{upload.filename[:80]}"
            elif NAME.match(name) and (backup_dir(data()) / name).is_file():
                candidate, source = backup_dir(data()) / name, name
            else:
                return page(request, session, 422, error=text("backups.choose", lang))
            try:
                check_candidate(candidate, ctx.reader.conn.execute("PRAGMA page_size").fetchone()[0])
            except RestoreRefused as exc:
                ctx.audit(actor(session.user, request), "backup.restore_refused", source,
                          {"reason": exc.en, "faults": exc.faults[:5]}, wait=True)  # fmt: skip
                return page(
                    request, session, 422, error=exc.fr if lang == "fr" else exc.en, faults=exc.faults
                )
            who = actor(session.user, request)

            def job(ledger: Ledger) -> str:
                now = ledger.clock()
                done = restore_on_writer(ledger, candidate, data(), now)
                detail = {"aside": done.aside.name, "events": done.events}
                write_one(ledger.conn, iso(now), who, "backup.restore", source, detail)
                return done.aside.name

            try:
                ctx.write(job)
            except sqlite3.Error as exc:  # the copy is one transaction: the live ledger is unchanged
                return page(request, session, 500, error=text("backups.failed", lang, error=str(exc)))
        finally:
            if scratch is not None:
                scratch.unlink(missing_ok=True)
        return RedirectResponse(f"/backups?restored={source[:40]}", status_code=303)


def _save_upload(upload: UploadFile, target: Path) -> bool:
    """Copy the upload to `target` (0600); False when it is larger than MAX_UPLOAD_BYTES."""
    written = 0
    with open(target, "xb") as out:
        target.chmod(0o600)
        while chunk := upload.file.read(_CHUNK):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                return False
            out.write(chunk)
    return True
