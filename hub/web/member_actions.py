"""What staff do to one member beyond a purchase: consents, and for managers the privacy and ledger
actions — export, erase, adjust a balance, replace a lost card, merge two members. Each needs a reason.

Ledger actions are `DirectRequest`s applied by the hub's single writer with the kiosks' ledger code
(hub/ledger/staff_actions.py); consent changes and erasure are writer jobs with their audit line in
the same transaction (hub/ledger/privacy.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.ledger import DirectRequest, Ledger, iso
from hub.ledger.privacy import PrivacyError, erase_member, record_consent
from hub.ledger.reads import MemberDetail
from hub.ledger.schema import transaction
from hub.ledger.search import card_token
from hub.web.audit import record
from hub.web.context import WebContext
from hub.web.i18n import has, text
from hub.web.security import Cookies, actor, check_csrf, require

_SIGNED_INT = re.compile(r"^\s*([+-]?)\s*(\d{1,7})\s*$")
_SIGNED_EUROS = re.compile(r"^\s*([+-]?)\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*€?\s*$")
_REQUEST_ID = re.compile(r"^[0-9a-f-]{36}$")
MIN_REASON = 3


def parse_delta(typed: str, account: str) -> int | None:
    """'+50' points -> 50; '-2,50' for the kitty -> -250 cents; None when unreadable or zero."""
    if account == "cashback_cents":
        match = _SIGNED_EUROS.match(typed)
        if match is None:
            return None
        value = int(match.group(2)) * 100 + int((match.group(3) or "0").ljust(2, "0"))
    else:
        match = _SIGNED_INT.match(typed)
        if match is None:
            return None
        value = int(match.group(2))
    value = -value if match.group(1) == "-" else value
    return value or None


MemberPage = Callable[..., Response]


def add_member_actions(router: APIRouter, ctx: WebContext, cookies: Cookies, member_page: MemberPage,
                       lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    def live_member(code: str) -> MemberDetail | None:
        member_id = ctx.reader.member_id(code=code)
        return ctx.reader.detail(member_id) if member_id is not None else None

    def not_found(request: Request, session: Any) -> Response:
        return member_page(request, session, None)

    # -- consents (staff: a member asks at the counter) -------------------------------------------
    @router.post("/members/{code}/consent")
    def consent(
        request: Request,
        code: str,
        channel: Annotated[str, Form(max_length=8)] = "",
        granted: Annotated[str, Form(max_length=1)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        session = require(ctx, request, cookies)
        check_csrf(session.csrf, csrf)
        detail = live_member(code)
        if detail is None:
            return not_found(request, session)
        if channel not in ("email", "sms") or granted not in ("0", "1"):
            return member_page(request, session, detail, 422, error=text("member.bad_form", lang_of(request)))
        who = actor(session.user, request)

        def job(ledger: Ledger) -> None:
            now = ledger.clock()
            with transaction(ledger.conn):
                record_consent(ledger.conn.cursor(), detail.id, channel, granted == "1", now,
                               ledger.policy_version, who.id.replace("staff:", "web:"))  # fmt: skip
                record(ledger.conn, iso(now), who, "member.consent", detail.code,
                       {"channel": channel, "granted": granted == "1", "policy_version": ledger.policy_version})  # fmt: skip

        ctx.write(job)
        return RedirectResponse(f"/members/{detail.code}?done=consent", status_code=303)

    # -- privacy (managers) -------------------------------------------------------------------------
    @router.get("/members/{code}/export")
    def export(request: Request, code: str) -> Response:
        session = require(ctx, request, cookies, role="manager")
        member_id = ctx.reader.member_id(code=code)
        if member_id is None:
            return not_found(request, session)
        data = ctx.reader.export(member_id)
        data["exported_at"] = iso(ctx.now())
        ctx.audit(actor(session.user, request), "member.export", data["member"]["code"], wait=True)
        body = json.dumps(data, ensure_ascii=False, indent=2).encode()
        filename = f"fidelio-membre-{data['member']['code']}.json"
        return Response(body, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip

    def manager_form(request: Request, code: str, csrf: str) -> tuple[Any, Any] | Response:
        """A manager's form on a live member: the session (CSRF checked) and the member, or the answer."""
        session = require(ctx, request, cookies, role="manager")
        check_csrf(session.csrf, csrf)
        detail = live_member(code)
        return not_found(request, session) if detail is None else (session, detail)

    def refused(request: Request, session: Any, detail: Any, key: str, form: str) -> Response:
        """The member page again, with the form's error in the page's language (422)."""
        return member_page(request, session, detail, 422, error=text(key, lang_of(request)), form=form)

    @router.post("/members/{code}/erase")
    def erase(
        request: Request,
        code: str,
        reason: Annotated[str, Form(max_length=300)] = "",
        confirm: Annotated[str, Form(max_length=16)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        opened = manager_form(request, code, csrf)
        if isinstance(opened, Response):
            return opened
        session, detail = opened
        refuse = partial(refused, request, session, detail)
        if len(reason.strip()) < MIN_REASON:
            return refuse("member.reason_required", "erase")
        if confirm.strip().upper().replace("-", "") != detail.code:
            return refuse("erase.confirm_wrong", "erase")
        who = actor(session.user, request)

        def job(ledger: Ledger) -> dict[str, int]:
            now = ledger.clock()
            with transaction(ledger.conn):
                touched = erase_member(ledger.conn.cursor(), detail.id, now)
                record(
                    ledger.conn,
                    iso(now),
                    who,
                    "member.erase",
                    detail.code,
                    {"reason": reason.strip(), **touched},
                )
            ledger.checkpoint()  # the old values leave the WAL too (when no reader holds an old snapshot)
            return touched

        try:
            ctx.write(job)
        except PrivacyError:
            return not_found(request, session)
        return RedirectResponse(f"/members/{detail.code}", status_code=303)

    # -- ledger actions (managers): the same ledger code as the kiosks' requests ----------------------
    def apply_action(request: Request, session: Any, detail: MemberDetail, kind: str, request_id: str,
                     body: dict[str, Any], audit: dict[str, Any]) -> Response:  # fmt: skip
        lang = lang_of(request)
        if not _REQUEST_ID.match(request_id):
            return member_page(request, session, detail, 422, error=text("member.bad_form", lang), form=kind)
        source = session.user.actor_id.replace("staff:", "web:")
        req = DirectRequest(1, request_id, kind, source, None, None, body, member=detail.code)
        (applied,) = ctx.apply([req])
        reply = json.loads(applied.reply)
        if not reply["ok"] or applied.conflict:
            error = reply.get("error") or {}
            key = f"{kind}.refused.{error.get('code')}"
            message = text(key, lang) if has(key) else (error.get(lang) or text("error.busy", lang))
            return member_page(request, session, detail, 409, error=message, form=kind)
        if not applied.duplicate:
            ctx.audit(actor(session.user, request), f"member.{kind}", detail.code,
                      {**audit, "reason": body["reason"], "event": request_id})  # fmt: skip
        return RedirectResponse(f"/members/{detail.code}?done={kind}", status_code=303)

    @router.post("/members/{code}/adjust")
    def adjust(
        request: Request,
        code: str,
        account: Annotated[str, Form(max_length=20)] = "",
        delta: Annotated[str, Form(max_length=20)] = "",
        reason: Annotated[str, Form(max_length=300)] = "",
        request_id: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        opened = manager_form(request, code, csrf)
        if isinstance(opened, Response):
            return opened
        session, detail = opened
        refuse = partial(refused, request, session, detail)
        cents = parse_delta(delta, account) if account in ctx.program.balances_used() else None
        if cents is None:
            return refuse("adjust.bad_delta", "adjust")
        if len(reason.strip()) < MIN_REASON:
            return refuse("member.reason_required", "adjust")
        body = {"account": account, "delta": cents, "reason": reason.strip()}
        return apply_action(
            request, session, detail, "adjust", request_id, body, {"account": account, "delta": cents}
        )

    @router.post("/members/{code}/card")
    def replace_card(
        request: Request,
        code: str,
        old_card: Annotated[str, Form(max_length=80)] = "",
        new_card: Annotated[str, Form(max_length=80)] = "",
        reason: Annotated[str, Form(max_length=300)] = "",
        request_id: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        opened = manager_form(request, code, csrf)
        if isinstance(opened, Response):
            return opened
        session, detail = opened
        refuse = partial(refused, request, session, detail)
        new = card_token(new_card)
        if new is None or old_card not in {c["token"] for c in detail.cards}:
            return refuse("card.bad_card", "card_replace")
        if len(reason.strip()) < MIN_REASON:
            return refuse("member.reason_required", "card_replace")
        body = {"old_card": old_card, "new_card": new, "reason": reason.strip()}
        return apply_action(request, session, detail, "card_replace", request_id, body, {})

    @router.post("/members/{code}/merge")
    def merge(
        request: Request,
        code: str,
        other: Annotated[str, Form(max_length=16)] = "",
        reason: Annotated[str, Form(max_length=300)] = "",
        confirm: Annotated[str, Form(max_length=3)] = "",
        request_id: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        opened = manager_form(request, code, csrf)
        if isinstance(opened, Response):
            return opened
        session, detail = opened
        refuse = partial(refused, request, session, detail)
        other_code = other.strip().upper().replace("-", "").replace(" ", "")
        if other_code == detail.code or ctx.reader.member_id(code=other_code) is None:
            return refuse("merge.bad_other", "merge")
        if len(reason.strip()) < MIN_REASON:
            return refuse("member.reason_required", "merge")
        if confirm != "yes":
            return refuse("merge.confirm_missing", "merge")
        body = {"from": other_code, "reason": reason.strip()}
        return apply_action(request, session, detail, "merge", request_id, body, {"from": other_code})
