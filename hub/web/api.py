"""The HTTP API, `/api/v1`, for a POS or a web shop: API keys with scopes, JSON, an OpenAPI document.

Writes go through the hub's single writer with the same ledger code as the kiosks' MQTT requests: a
purchase is a `DirectRequest` whose id is derived from the integration's `Idempotency-Key`, so a
repeated key is a repeated id and gets the stored reply, as over MQTT.
"""

import json
import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from fidelio.contract import ErrorCode, error_text
from fidelio.contract.messages import _CARD, MAX_AMOUNT_CENTS
from hub.ledger import DirectRequest
from hub.ledger.vouchers import STATUS_TEXT, VoucherCheck
from hub.web.apikeys import ApiKey, find_key
from hub.web.audit import Actor, use_voucher_audited
from hub.web.context import HubBusy, WebContext

#: Idempotency keys name a purchase for one integration: its id is uuid5(this, "<key id>:<idempotency key>").
IDEMPOTENCY_NAMESPACE = uuid.UUID("5d1f0c3e-8b7a-4f0e-9a51-6b1e2f3c4d5e")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
MEMBER_CODE_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{8}$"

API_TEXTS: dict[str, tuple[str, str]] = {
    "unauthorized": ("Clé d'API absente ou invalide.", "Missing or invalid API key."),
    "forbidden": (
        "Cette clé d'API n'a pas la portée « {scope} ».",
        "This API key lacks the '{scope}' scope.",
    ),
    "throttled": ("Trop d'essais : réessayez plus tard.", "Too many attempts: try again later."),
    "not_found": ("Cette adresse n'existe pas.", "No such address."),
    "method_not_allowed": ("Méthode non permise ici.", "Method not allowed here."),
    "unknown_member": ("Aucun membre ne porte ce code.", "No member has this code."),
    "no_member_phone": ("Aucun membre n'a ce numéro de téléphone.", "No member has this phone number."),
    "ambiguous": (
        "Plusieurs membres ont ce numéro : cherchez par carte ou par code.",
        "Several members have this phone number: look up by card or code.",
    ),
    "idempotency_key_reused": (
        "Cette clé d'idempotence a déjà servi pour un autre achat.",
        "This idempotency key was already used for another purchase.",
    ),
    "hub_unavailable": (
        "Le registre n'a pas répondu à temps ; rien n'est perdu : réessayez avec la même clé d'idempotence.",
        "The ledger did not answer in time; nothing is lost: retry with the same idempotency key.",
    ),
    "voucher_unknown": STATUS_TEXT["unknown"],
    "voucher_mistyped": STATUS_TEXT["mistyped"],
    "voucher_used": STATUS_TEXT["used"],
    "voucher_expired": STATUS_TEXT["expired"],
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str | None = None, headers: dict[str, str] | None = None,
                 **values: Any) -> None:  # fmt: skip
        super().__init__(code)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers
        if code in API_TEXTS:
            fr, en = API_TEXTS[code]
            self.fr, self.en = fr.format(**values), en.format(**values)
        else:
            texts = error_text(ErrorCode(code))
            self.fr, self.en = texts["fr"], texts["en"]

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"code": self.code, "fr": self.fr, "en": self.en}
        if self.detail:
            error["detail"] = self.detail
        return JSONResponse({"error": error}, status_code=self.status, headers=self.headers)


# -- schemas ---------------------------------------------------------------------------------------
class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable code (the wire contract's where they apply)")
    fr: str
    en: str
    detail: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Texts(BaseModel):
    fr: str
    en: str


class Balances(BaseModel):
    points: int
    stamps: int
    cashback_cents: int


class Totals(BaseModel):
    spend_cents: int
    visits: int
    purchases: int


class Tier(BaseModel):
    name: str
    next: str | None
    progress: dict[str, Any] = Field(
        description="basis, current, target, missing, window_months; {} at the top"
    )


class Member(BaseModel):
    code: str
    display_name: str | None
    balances: Balances
    totals: Totals
    tier: Tier


class Effect(_Out):
    kind: str
    delta: int | None = None
    reason: Texts


class PurchaseIn(BaseModel):
    """A purchase: for a card (tapped or typed at the POS), for a member (by code), or anonymous."""

    model_config = ConfigDict(extra="forbid")
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS, description="integer cents")
    card: str | None = Field(None, pattern=_CARD.pattern, description="'<reader kind>:<UID hex>'")
    member: str | None = Field(None, pattern=MEMBER_CODE_PATTERN, description="member code")
    receipt: str | None = Field(None, max_length=64)


class PurchaseOut(BaseModel):
    id: str = Field(description="the event id in the ledger (derived from the Idempotency-Key)")
    at: str
    member: Member | None = Field(description="null for an anonymous purchase or a card no member has")
    effects: list[Effect]
    voucher: dict[str, Any] | None = None
    enrolment: dict[str, Any] | None = Field(None, description="for a card no member has: may it enrol now")


class RedeemIn(BaseModel):
    """A reward of the program (its id, from GET /rewards) for a member: the member's balance pays for it."""

    model_config = ConfigDict(extra="forbid")
    reward: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class IssuedVoucher(_Out):
    code: str
    reward: str
    name: Texts
    value: dict[str, Any]
    issued: str
    expires: str


class RedeemOut(BaseModel):
    id: str = Field(description="the event id in the ledger (derived from the Idempotency-Key)")
    at: str
    member: Member
    effects: list[Effect]
    voucher: IssuedVoucher


class Reward(_Out):
    id: str
    name: Texts
    cost: dict[str, int]
    kind: str


class Voucher(BaseModel):
    code: str
    status: Literal["valid", "used", "expired"]
    reward: str
    name: Texts
    value: dict[str, Any]
    issued: str
    expires: str
    used_at: str | None
    used_by: str | None
    member: str | None


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    common = {401: "no or bad API key", 403: "the key lacks the scope", 429: "too many failed attempts"}
    out: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorBody, "description": d} for s, d in common.items()
    }
    for status in statuses:
        out[status] = {"model": ErrorBody, "description": "see error.code"}
    return out


# -- the app ---------------------------------------------------------------------------------------
def build_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="Fidelio hub API",
        version="1",
        description="Look up members, record purchases (earn), redeem rewards for a member (burn), check and "
        "redeem vouchers. Authenticate with "
        "`Authorization: Bearer <API key>` (fidelio-hub apikey add NAME --scope ...).",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    bearer = HTTPBearer(auto_error=False, description="an API key made by `fidelio-hub apikey add`")

    @api.exception_handler(ApiError)
    def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @api.exception_handler(HubBusy)
    def _busy(_request: Request, exc: HubBusy) -> JSONResponse:
        return ApiError(503, "hub_unavailable", headers={"Retry-After": "5"}).response()

    @api.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}" for err in exc.errors()[:5]
        )
        return ApiError(422, ErrorCode.MALFORMED.value, problems[:500]).response()

    @api.exception_handler(StarletteHTTPException)
    def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        if code is None:
            return ApiError(exc.status_code, ErrorCode.MALFORMED.value, str(exc.detail)).response()
        return ApiError(exc.status_code, code).response()

    def authenticated(
        request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> ApiKey:
        address = request.client.host if request.client else "unknown"
        wait = ctx.key_throttle.wait_for(f"addr:{address}")
        if wait > 0:
            raise ApiError(429, "throttled", headers={"Retry-After": str(int(wait) + 1)})
        key = (
            find_key(ctx.reader.conn, creds.credentials)
            if creds and creds.scheme.lower() == "bearer"
            else None
        )
        if key is None:
            ctx.key_throttle.failure(f"addr:{address}")
            raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        request.state.actor = Actor(key.actor_id, address)
        return key

    def scoped(scope: str) -> Any:
        def need(key: Annotated[ApiKey, Depends(authenticated)]) -> ApiKey:
            if scope not in key.scopes:
                raise ApiError(403, "forbidden", scope=scope)
            return key

        return Depends(need)

    # -- lookup ------------------------------------------------------------------------------------
    @api.get("/members/lookup", response_model=Member, responses=_errors(404, 409, 422),
             summary="Find a member by card, member code or phone (exactly one of them)")  # fmt: skip
    def lookup(
        request: Request,
        key: Annotated[ApiKey, scoped("lookup")],
        card: Annotated[str | None, Query(max_length=80)] = None,
        code: Annotated[str | None, Query(max_length=16)] = None,
        phone: Annotated[str | None, Query(max_length=32)] = None,
    ) -> Any:
        given = [(k, v) for k, v in (("card", card), ("code", code), ("phone", phone)) if v is not None]
        if len(given) != 1:
            raise ApiError(422, ErrorCode.MALFORMED.value, "give exactly one of card, code, phone")
        kind, value = given[0]
        if kind == "phone":
            ids = ctx.reader.members_by_phone(value)
            if len(ids) > 1:
                raise ApiError(409, "ambiguous", f"{len(ids)} members")
            member_id = ids[0] if ids else None
            missing = "no_member_phone"
        elif kind == "card":
            member_id = ctx.reader.member_id(card=value)
            missing = ErrorCode.UNKNOWN_CARD.value
        else:
            member_id = ctx.reader.member_id(code=value)
            missing = "unknown_member"
        view = ctx.reader.view(member_id) if member_id is not None else None
        if view is None:
            raise ApiError(404, missing)
        return view

    def idempotent_id(key: ApiKey, idempotency_key: str) -> str:
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ApiError(
                422, ErrorCode.MALFORMED.value, "Idempotency-Key: 1 to 200 visible ASCII characters"
            )
        return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{key.id}:{idempotency_key}"))

    idempotency_header = Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="one per operation; resend the same key to retry safely",
    )

    # -- purchases ----------------------------------------------------------------------------------
    @api.post("/purchases", status_code=201, response_model=PurchaseOut, responses=_errors(404, 422, 503),
              summary="Record a purchase (anonymous, for a card or for a member), at most once per Idempotency-Key")  # fmt: skip
    def purchase(
        request: Request,
        body: PurchaseIn,
        key: Annotated[ApiKey, scoped("purchase")],
        idempotency_key: Annotated[str, idempotency_header],
    ) -> Any:
        event_id = idempotent_id(key, idempotency_key)
        if body.card is not None and body.member is not None:
            raise ApiError(422, ErrorCode.MALFORMED.value, "give a card or a member, not both")
        if body.member is not None and ctx.reader.member_id(code=body.member) is None:
            raise ApiError(404, "unknown_member")
        fields: dict[str, Any] = {"amount_cents": body.amount_cents}
        if body.receipt is not None and body.receipt.strip():
            fields["receipt"] = body.receipt.strip()
        req = DirectRequest(
            1, event_id, "purchase", key.actor_id, body.card, None, fields, member=body.member
        )
        (applied,) = ctx.apply([req])
        if applied.conflict:
            raise ApiError(422, "idempotency_key_reused")
        out = _purchase_out(json.loads(applied.reply))
        headers = {"Idempotent-Replayed": "true"} if applied.duplicate else None
        return JSONResponse(out, status_code=201, headers=headers)

    # -- burn: a reward for a member (a web shop) ------------------------------------------------------
    @api.get("/rewards", response_model=list[Reward], responses=_errors(),
             summary="The program's rewards: what a member can redeem, and for how much")  # fmt: skip
    def rewards(key: Annotated[ApiKey, scoped("lookup")]) -> Any:
        return ctx.program.summary()["rewards"]

    @api.post("/members/{code}/redeem", status_code=201, response_model=RedeemOut,
              responses=_errors(404, 409, 422, 503),
              summary="Redeem a reward for a member (burn): the balance pays, a voucher is issued; "
                      "at most once per Idempotency-Key")  # fmt: skip
    def burn(
        request: Request,
        code: Annotated[str, Path(pattern=MEMBER_CODE_PATTERN, description="member code")],
        body: RedeemIn,
        key: Annotated[ApiKey, scoped("redeem")],
        idempotency_key: Annotated[str, idempotency_header],
    ) -> Any:
        event_id = idempotent_id(key, idempotency_key)
        if ctx.reader.member_id(code=code) is None:
            raise ApiError(404, "unknown_member")
        req = DirectRequest(1, event_id, "redeem", key.actor_id, None, None, {"reward": body.reward},
                            member=code)  # fmt: skip
        (applied,) = ctx.apply([req])
        if applied.conflict:
            raise ApiError(422, "idempotency_key_reused")
        reply = json.loads(applied.reply)
        if not reply["ok"]:
            error = reply["error"]
            if error["code"] == ErrorCode.INTERNAL.value:
                raise ApiError(503, "hub_unavailable")
            status = (
                422 if error["code"] in (ErrorCode.UNKNOWN_REWARD.value, ErrorCode.MALFORMED.value) else 409
            )
            raise ApiError(status, error["code"], error.get("detail"))
        out = {k: reply[k] for k in ("id", "at", "member", "effects", "voucher")}
        headers = {"Idempotent-Replayed": "true"} if applied.duplicate else None
        return JSONResponse(out, status_code=201, headers=headers)

    # -- vouchers -----------------------------------------------------------------------------------
    def voucher_guard(request: Request, key: ApiKey) -> None:
        wait = ctx.voucher_throttle.wait_for(key.actor_id)
        if wait > 0:
            raise ApiError(429, "throttled", headers={"Retry-After": str(int(wait) + 1)})

    def voucher_out(result: VoucherCheck, key: ApiKey, allowed: tuple[str, ...]) -> dict[str, Any]:
        if result.status in ("unknown", "mistyped"):
            ctx.voucher_throttle.failure(key.actor_id)
            raise ApiError(
                404 if result.status == "unknown" else 422, f"voucher_{result.status}", result.detail or None
            )
        assert result.voucher is not None
        if result.status not in allowed:
            raise ApiError(409, f"voucher_{result.status}", f"used_at {result.voucher['used_at']}"
                           if result.status == "used" else f"expired {result.voucher['expires']}")  # fmt: skip
        return {**result.voucher, "status": result.status}

    code_param = Path(min_length=1, max_length=64, description="the printed or scanned code, dashes optional")

    @api.get("/vouchers/{code}", response_model=Voucher, responses=_errors(404, 422),
             summary="Check a voucher: its reward, expiry and status")  # fmt: skip
    def voucher(
        request: Request, code: Annotated[str, code_param], key: Annotated[ApiKey, scoped("vouchers")]
    ) -> Any:
        voucher_guard(request, key)
        return voucher_out(ctx.reader.check_voucher(code), key, ("valid", "used", "expired"))

    @api.post("/vouchers/{code}/redeem", response_model=Voucher, responses=_errors(404, 409, 422, 503),
              summary="Mark a valid voucher used, once")  # fmt: skip
    def redeem(
        request: Request, code: Annotated[str, code_param], key: Annotated[ApiKey, scoped("vouchers")]
    ) -> Any:
        voucher_guard(request, key)
        who: Actor = request.state.actor

        result = ctx.write(use_voucher_audited(code, who))
        voucher_out(result, key, ("valid",))
        return voucher_out(ctx.reader.check_voucher(code), key, ("used",))

    return api


def _purchase_out(reply: dict[str, Any]) -> dict[str, Any]:
    """The API's answer is a pure function of the stored reply: a repeated key gets the same answer."""
    out: dict[str, Any] = {"id": reply["id"], "at": reply["at"], "member": None, "effects": []}
    if reply["ok"]:
        out["member"] = reply["member"]
        out["effects"] = reply["effects"]
        if "voucher" in reply:
            out["voucher"] = reply["voucher"]
        return out
    error = reply["error"]
    if error["code"] == ErrorCode.UNKNOWN_CARD.value:  # recorded as the card's anonymous spend
        out["enrolment"] = error.get("enrolment")
        return out
    if error["code"] == ErrorCode.INTERNAL.value:
        raise ApiError(503, "hub_unavailable")
    raise ApiError(422, error["code"], error.get("detail"))
