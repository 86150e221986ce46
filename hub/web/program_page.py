"""The program page: the program in words (its summary), its TOML, the versions the ledger keeps
(managers); a candidate TOML validated with its errors shown at their line, previewed on a sample member
or a real one beside the current program, and saved as a new version (admins).

Saving runs on the hub's single writer: the file `DIR/program.toml` is replaced, the ledger stores the
version (by sha256; postings keep the version that made them) and applies it from the next request on,
without a restart; the retained `hub/program` message is published again for the kiosks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.config import HubPaths
from hub.ledger import Ledger, iso
from hub.ledger.state import MEMBER_COLUMNS, load_member
from hub.program import Program, ProgramError, ProgramIssue, load_program
from hub.web.audit import write_one
from hub.web.context import WebContext
from hub.web.program_preview import SAMPLE_PURCHASE_CENTS, Preview, preview, sample_member
from hub.web.security import Cookies, actor, check_csrf, require

MAX_PROGRAM_CHARS = 200_000
CONTEXT_LINES = 2


def versions(conn: Any) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT version, sha256, installed_at FROM programs ORDER BY version DESC").fetchall()
    return [{"version": v, "sha256": sha, "installed_at": at} for v, sha, at in rows]


def excerpts(source: str, issues: list[ProgramIssue]) -> list[dict[str, Any]]:
    """The lines around each issue's line, each line once, in order: {"n", "text", "issues", "gap"}."""
    lines = source.splitlines() or [""]
    marked: dict[int, list[ProgramIssue]] = {}
    for issue in issues:
        if issue.line is not None:
            marked.setdefault(min(max(issue.line, 1), len(lines)), []).append(issue)
    shown = sorted({n for line in marked for n in range(line - CONTEXT_LINES, line + CONTEXT_LINES + 1)
                    if 1 <= n <= len(lines)})  # fmt: skip
    out, last = [], 0
    for n in shown:
        out.append({"n": n, "text": lines[n - 1], "issues": marked.get(n, []), "gap": last and n > last + 1})
        last = n
    return out


def write_program_file(path: Path, source: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(source, encoding="utf-8")
    os.replace(partial, path)


def add_program_pages(router: APIRouter, ctx: WebContext, cookies: Cookies, render: Callable[..., Response],
                      lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    def program_file() -> Path:
        assert ctx.data is not None
        return HubPaths(ctx.data).program

    def state_of(program: Program, code: str) -> Any:
        now = ctx.now()
        if not code:
            return sample_member(now)
        cur = ctx.reader.conn.cursor()
        row = cur.execute(
            f"SELECT {MEMBER_COLUMNS} FROM members WHERE code = ? AND erased_at IS NULL AND merged_into IS NULL",
            (code.strip().upper(),),
        ).fetchone()
        return None if row is None else load_member(cur, row, program, now).state

    def previews(candidate: Program | None, code: str) -> dict[str, Preview] | None:
        now = ctx.now()
        out = {}
        for name, program in (("current", ctx.program), ("candidate", candidate)):
            if program is None:
                continue
            state = state_of(program, code)
            if state is None:
                return None
            out[name] = preview(program, state, now)
        return out

    def page(request: Request, session: Any, status: int = 200, *, source: str | None = None,
             **values: Any) -> Response:  # fmt: skip
        current = ctx.program
        defaults: dict[str, Any] = {"issues": [], "excerpt": [], "saved": None, "unchanged": False,
                                    "member": "", "unknown_member": False, "candidate": None}  # fmt: skip
        values = {**defaults, **values}
        if "previews" not in values:
            values["previews"] = previews(None, "")
        return render(request, "program.html", status, session=session, summary=current.summary(),
                      source=current.text if source is None else source, versions=versions(ctx.reader.conn),
                      current_sha=current.sha256, sample_cents=SAMPLE_PURCHASE_CENTS,
                      can_edit=session.user.has("admin"), **values)  # fmt: skip

    @router.get("/program")
    def show(request: Request, version: int | None = None, saved: int | None = None,
             unchanged: int = 0) -> Response:  # fmt: skip
        session = require(ctx, request, cookies, role="manager")
        source = None
        if version is not None:
            row = ctx.reader.conn.execute(
                "SELECT text FROM programs WHERE version = ?", (version,)
            ).fetchone()
            source = row[0] if row else None
        return page(request, session, source=source, saved=saved, unchanged=bool(unchanged))

    @router.post("/program")
    def submit(
        request: Request,
        toml: Annotated[str, Form(max_length=MAX_PROGRAM_CHARS)] = "",
        action: Annotated[str, Form(max_length=8)] = "preview",
        member: Annotated[str, Form(max_length=40)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        session = require(ctx, request, cookies, role="admin" if action == "save" else "manager")
        check_csrf(session.csrf, csrf)
        source = toml.replace("\r\n", "\n")
        try:
            candidate = load_program(source, "program.toml")
        except ProgramError as exc:
            return page(request, session, 422, source=source, issues=exc.issues,
                        excerpt=excerpts(source, exc.issues), member=member)  # fmt: skip
        if action != "save":
            shown = previews(candidate, member)
            if shown is None:
                return page(request, session, 404, source=source, member=member, unknown_member=True)
            return page(request, session, source=source, previews=shown, candidate=candidate, member=member)
        if candidate.sha256 == ctx.program.sha256:
            return RedirectResponse("/program?unchanged=1", status_code=303)
        who = actor(session.user, request)

        def job(ledger: Ledger) -> int:
            write_program_file(program_file(), source)
            ledger.program = candidate
            ledger.program_version = ledger._install_program(candidate)
            detail = {"version": ledger.program_version, "sha256": candidate.sha256}
            write_one(
                ledger.conn, iso(ledger.clock()), who, "program.save", str(ledger.program_version), detail
            )
            return ledger.program_version

        version = ctx.write(job)
        ctx.reader.program = candidate
        ctx.writer.publish_program()
        return RedirectResponse(f"/program?saved={version}", status_code=303)
