"""The staff pages: login, member search, member page, voucher at the till, audit log.

Server-rendered (Jinja2); every form POST carries a CSRF token; every staff action is audited; every
write goes through the hub's single writer (`WebContext.write` / `.apply`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fidelio.contract import uuid7
from fidelio.contract.messages import MAX_AMOUNT_CENTS
from hub.ledger import DirectRequest, Ledger, iso
from hub.ledger.schema import transaction
from hub.web import labels
from hub.web.accounts import end_session, open_session, password_hash_of, verify_password
from hub.web.audit import Actor, recent, record, use_voucher_audited
from hub.web.backups_page import add_backup_pages
from hub.web.context import WebContext
from hub.web.dashboard_page import add_dashboard
from hub.web.i18n import DEFAULT_LANG, LANGS, has, pick_lang, text
from hub.web.kiosks_page import add_kiosk_pages
from hub.web.member_actions import add_member_actions
from hub.web.program_page import add_program_pages
from hub.web.security import (
    Cookies,
    actor,
    check_csrf,
    client_address,
    current_session,
    new_login_token,
    require,
    safe_next,
)
from hub.web.segments_page import add_segment_pages
from hub.web.updates_page import add_update_pages

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_EUROS = re.compile(r"^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*€?\s*$")


def parse_euros(typed: str) -> int | None:
    """'12,5' -> 1250 cents; None when it is not a positive amount of euros."""
    match = _EUROS.match(typed)
    if match is None:
        return None
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return cents if 0 < cents <= MAX_AMOUNT_CENTS else None


def build_pages(ctx: WebContext, cookies: Cookies) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def lang_of(request: Request) -> str:
        return pick_lang(request.cookies.get(cookies.lang))

    def render(
        request: Request, template: str, status: int = 200, session: Any = None, **values: Any
    ) -> Response:
        lang = lang_of(request)
        if request.method == "GET":
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        else:  # the answer to a form: switching language goes back to the form's page
            here = request.url.path.rsplit("/", 1)[0] or "/"
        values.update(
            here=here,
            request=request,
            lang=lang,
            other_lang="en" if lang == "fr" else "fr",
            t=lambda key, **kw: text(key, lang, **kw),
            has_text=has,
            colon=" :" if lang == "fr" else ":",  # French puts a space before the colon
            session=session,
            shop=ctx.program.shop_name,
            L=labels,
            program=ctx.program,
            tz=ctx.tz,
        )
        return TEMPLATES.TemplateResponse(request, template, values, status_code=status)

    # -- language ---------------------------------------------------------------------------------
    @router.get("/lang/{lang}")
    def set_lang(lang: str, next: str = "/") -> Response:
        response = RedirectResponse(safe_next(next), status_code=303)
        cookies.set(response, cookies.lang, lang if lang in LANGS else DEFAULT_LANG, max_age=365 * 86400)
        return response

    # -- login / logout ---------------------------------------------------------------------------
    def login_page(request: Request, status: int = 200, message: str | None = None, name: str = "",
                   next: str = "/") -> Response:  # fmt: skip
        token = new_login_token()
        response = render(request, "login.html", status, message=message, name=name, next=safe_next(next),
                          login_csrf=token, bad=status >= 400)  # fmt: skip
        cookies.set(response, cookies.login, token, max_age=3600)
        return response

    @router.get("/login")
    def login_form(request: Request, next: str = "/", bye: int = 0) -> Response:
        message = text("login.bye", lang_of(request)) if bye else None
        return login_page(request, message=message, next=next)

    @router.post("/login")
    def login(
        request: Request,
        name: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
        next: Annotated[str, Form(max_length=512)] = "/",
    ) -> Response:
        check_csrf(request.cookies.get(cookies.login), csrf)
        lang = lang_of(request)
        address = client_address(request)
        name = name.strip().lower()
        keys = (f"user:{name}", f"addr:{address}")
        wait = ctx.login_throttle.wait_for(*keys)
        who = Actor(f"staff:{name}" if name else "anonymous", address)
        if wait > 0:
            ctx.audit(who, "login.throttled", name or None)
            return login_page(request, 429, text("login.throttled", lang, seconds=int(wait) + 1), name, next)
        user, stored = password_hash_of(ctx.reader.conn, name)
        if not verify_password(stored, password) or user is None:
            ctx.login_throttle.failure(*keys)
            ctx.audit(who, "login.failed", name or None)
            return login_page(request, 401, text("login.wrong", lang), name, next)
        ctx.login_throttle.success(keys[0])

        def job(ledger: Ledger) -> str:
            now = ledger.clock()
            with transaction(ledger.conn):
                token, _ = open_session(ledger.conn, user, now, ctx.http.session_hours, address)
                record(ledger.conn, iso(now), who, "login.ok", user.name, {"role": user.role})
            return token

        token = ctx.write(job)
        response = RedirectResponse(safe_next(next), status_code=303)
        cookies.set(response, cookies.session, token, max_age=ctx.http.session_hours * 3600)
        cookies.clear(response, cookies.login)
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
        session = require(ctx, request, cookies)
        check_csrf(session.csrf, csrf)
        who = actor(session.user, request)

        def job(ledger: Ledger) -> None:
            now = ledger.clock()
            with transaction(ledger.conn):
                end_session(ledger.conn, session.token_hash, now)
                record(ledger.conn, iso(now), who, "logout", session.user.name)

        ctx.write(job)
        response = RedirectResponse("/login?bye=1", status_code=303)
        cookies.clear(response, cookies.session)
        return response

    # -- home -------------------------------------------------------------------------------------
    @router.get("/")
    def home(request: Request) -> Response:
        require(ctx, request, cookies)
        return RedirectResponse("/till", status_code=303)

    # -- voucher at the till ----------------------------------------------------------------------
    @router.get("/till")
    def till(request: Request) -> Response:
        session = require(ctx, request, cookies)
        return render(request, "till.html", session=session, result=None, used_now=False, message=None)

    def till_throttled(request: Request, session: Any) -> Response | None:
        wait = ctx.voucher_throttle.wait_for(session.user.actor_id, f"addr:{client_address(request)}")
        if wait <= 0:
            return None
        message = text("till.throttled", lang_of(request), seconds=int(wait) + 1)
        return render(
            request, "till.html", 429, session=session, result=None, used_now=False, message=message
        )

    def count_guess(request: Request, session: Any, status: str) -> None:
        keys = (session.user.actor_id, f"addr:{client_address(request)}")
        if status in ("unknown", "mistyped"):
            ctx.voucher_throttle.failure(*keys)

    @router.post("/till/check")
    def till_check(
        request: Request,
        code: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        session = require(ctx, request, cookies)
        check_csrf(session.csrf, csrf)
        if (refused := till_throttled(request, session)) is not None:
            return refused
        result = ctx.reader.check_voucher(code)
        count_guess(request, session, result.status)
        ctx.audit(
            actor(session.user, request), "voucher.check", result.code or code[:32], {"status": result.status}
        )
        status = (
            200
            if result.status in ("valid", "used", "expired")
            else 404
            if result.status == "unknown"
            else 422
        )
        return render(request, "till.html", status, session=session, result=result, used_now=False, message=None,
                      typed=code)  # fmt: skip

    @router.post("/till/use")
    def till_use(
        request: Request,
        code: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        session = require(ctx, request, cookies)
        check_csrf(session.csrf, csrf)
        if (refused := till_throttled(request, session)) is not None:
            return refused
        who = actor(session.user, request)

        result = ctx.write(use_voucher_audited(code, who))
        count_guess(request, session, result.status)
        used_now = result.ok
        if used_now:  # show it as it is now: used, by whom, when
            result = ctx.reader.check_voucher(code)
        status = (
            200
            if used_now
            else 409
            if result.status in ("used", "expired")
            else 404
            if result.status == "unknown"
            else 422
        )
        return render(request, "till.html", status, session=session, result=result, used_now=used_now, message=None,
                      typed=code)  # fmt: skip

    # -- members ----------------------------------------------------------------------------------
    @router.get("/members")
    def members(request: Request, q: Annotated[str, Query(max_length=100)] = "") -> Response:
        session = require(ctx, request, cookies)
        hits = ctx.reader.search(q) if q.strip() else []
        if q.strip():
            kinds = sorted({h.matched for h in hits})
            ctx.audit(
                actor(session.user, request), "member.search", None, {"results": len(hits), "matched": kinds}
            )
        return render(request, "members.html", session=session, q=q, hits=hits, limit=50)

    def member_page(request: Request, session: Any, detail: Any, status: int = 200, *, error: str | None = None,
                    form: str | None = None, recorded: int = 0, done: str = "") -> Response:  # fmt: skip
        """The member page (or, for a code that names no live member, what became of it, or a 404)."""
        if detail is None:
            gone = ctx.reader.gone(request.path_params.get("code", ""))
            if gone is not None:
                return render(request, "member_gone.html", status, session=session, gone=gone)
            return render(request, "error.html", 404, session=session, title="error.not_found.title",
                          message=text("error.not_found", lang_of(request)))  # fmt: skip
        return render(request, "member.html", status, session=session, m=detail, request_id=uuid7(),
                      recorded=recorded, error=error, form=form,
                      done=done if has(f"done.{done}") else "")  # fmt: skip

    @router.get("/members/{code}")
    def member(request: Request, code: str, recorded: int = 0, done: str = "") -> Response:
        session = require(ctx, request, cookies)
        member_id = ctx.reader.member_id(code=code)
        detail = ctx.reader.detail(member_id) if member_id is not None else None
        if detail is not None:
            ctx.audit(actor(session.user, request), "member.view", detail.code)
        return member_page(request, session, detail, recorded=recorded, done=done)

    @router.post("/members/{code}/purchase")
    def member_purchase(
        request: Request,
        code: str,
        amount: Annotated[str, Form(max_length=32)] = "",
        receipt: Annotated[str, Form(max_length=64)] = "",
        request_id: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        session = require(ctx, request, cookies)
        check_csrf(session.csrf, csrf)
        member_id = ctx.reader.member_id(code=code)
        detail = ctx.reader.detail(member_id) if member_id is not None else None
        if detail is None:
            return member_page(request, session, None)
        cents = parse_euros(amount)
        if cents is None or not re.fullmatch(r"[0-9a-f-]{36}", request_id):
            return member_page(request, session, detail, 422, error=text("member.bad_amount", lang_of(request)),
                               form="purchase")  # fmt: skip
        body: dict[str, Any] = {"amount_cents": cents}
        if receipt.strip():
            body["receipt"] = receipt.strip()
        # The form's id makes a double submit (or a reload) the same request: applied once.
        req = DirectRequest(1, request_id, "purchase", session.user.actor_id.replace("staff:", "web:"), None,
                            None, body, member=detail.code)  # fmt: skip
        (applied,) = ctx.apply([req])
        reply = json.loads(applied.reply)
        if not reply["ok"] or applied.conflict:
            error = reply.get("error") or {}
            return member_page(request, session, detail, 409, form="purchase",
                               error=error.get(lang_of(request)) or text("error.busy", lang_of(request)))  # fmt: skip
        ctx.audit(
            actor(session.user, request), "purchase", detail.code, {"amount_cents": cents, "id": request_id}
        )
        return RedirectResponse(f"/members/{detail.code}?recorded={cents}", status_code=303)

    add_member_actions(router, ctx, cookies, member_page, lang_of)
    add_segment_pages(router, ctx, cookies, render, lang_of)
    add_dashboard(router, ctx, cookies, render, lang_of)
    add_kiosk_pages(router, ctx, cookies, render, lang_of)
    add_backup_pages(router, ctx, cookies, render, lang_of)
    add_program_pages(router, ctx, cookies, render, lang_of)
    add_update_pages(router, ctx, cookies, render, lang_of)

    # -- audit log (managers) ---------------------------------------------------------------------
    @router.get("/audit")
    def audit(request: Request) -> Response:
        session = require(ctx, request, cookies, role="manager")
        return render(request, "audit.html", session=session, lines=recent(ctx.reader.conn, 300))

    # -- the shop CA, for staff browsers to trust ------------------------------------------------
    @router.get("/ca.crt")
    def ca_cert() -> Response:
        return Response(ctx.ca_pem or b"", media_type="application/x-x509-ca-cert")

    def current(request: Request) -> Any:
        return current_session(ctx, request, cookies)

    router.render = render  # type: ignore[attr-defined]
    router.current = current  # type: ignore[attr-defined]
    return router
