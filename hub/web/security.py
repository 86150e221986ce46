"""Sessions and CSRF for the pages: cookies, the logged-in staff member, role and token checks."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from hub.web.accounts import Session, StaffUser, find_session
from hub.web.audit import Actor
from hub.web.context import WebContext


class LoginRequired(Exception):
    """No valid session: the page redirects to the login form."""


class Forbidden(Exception):
    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


class CsrfRefused(Exception):
    """A form POST without the right token."""


@dataclass(frozen=True)
class Cookies:
    """Cookie names and flags: `__Host-` names (Secure, whole site, no Domain) when served over TLS."""

    secure: bool

    @property
    def session(self) -> str:
        return "__Host-fidelio-session" if self.secure else "fidelio-session"

    @property
    def login(self) -> str:
        return "__Host-fidelio-login" if self.secure else "fidelio-login"

    lang: str = "fidelio-lang"

    def set(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="strict")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_session(ctx: WebContext, request: Request, cookies: Cookies) -> Session | None:
    token = request.cookies.get(cookies.session)
    if not token:
        return None
    return find_session(ctx.reader.conn, token, ctx.now())


def require(ctx: WebContext, request: Request, cookies: Cookies, role: str = "staff") -> Session:
    session = current_session(ctx, request, cookies)
    if session is None:
        raise LoginRequired()
    if not session.user.has(role):
        raise Forbidden(role)
    return session


def check_csrf(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused()


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def actor(user: StaffUser, request: Request) -> Actor:
    return Actor(user.actor_id, client_address(request))


def safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect to another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
