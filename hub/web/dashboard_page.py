"""The dashboard (managers): the shop's figures (hub/ledger/kpis.py) as tiles, tables and charts.

Charts are drawn by Chart.js (MIT, vendored in static/vendor with its licence: no build step, no CDN)
from the same numbers the tables show; the page reads fine without JavaScript.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from hub.ledger import kpis
from hub.web.context import WebContext
from hub.web.security import Cookies, require


def month_label(month: str, lang: str) -> str:
    year, number = month.split("-")
    return f"{number}/{year}" if lang == "fr" else month


def add_dashboard(router: APIRouter, ctx: WebContext, cookies: Cookies, render: Callable[..., Response],
                  lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    @router.get("/dashboard")
    def dashboard(request: Request) -> Response:
        session = require(ctx, request, cookies, role="manager")
        started = time.perf_counter()
        figures = kpis.compute(ctx.reader.conn, ctx.now())
        lang = lang_of(request)
        chart_data = {
            "months": [month_label(m, lang) for m in figures.months],
            **figures.monthly,
        }
        response = render(request, "dashboard.html", session=session, k=figures, chart_data=chart_data)
        response.headers["server-timing"] = f"kpis;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
