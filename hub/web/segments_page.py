"""Segments for campaigns (managers): counts per segment and channel, and the CSV export per channel,
which only ever holds members whose latest consent for that channel is a yes (hub/ledger/segments.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from hub.ledger import iso
from hub.ledger import segments as seg
from hub.web.context import WebContext
from hub.web.i18n import text
from hub.web.security import Cookies, actor, require

CSV_HEADER = {
    "email": (
        "code",
        "prenom",
        "email",
        "niveau",
        "points",
        "tampons",
        "cagnotte_centimes",
        "derniere_visite",
    ),
    "sms": (
        "code",
        "prenom",
        "telephone",
        "niveau",
        "points",
        "tampons",
        "cagnotte_centimes",
        "derniere_visite",
    ),
}


def add_segment_pages(router: APIRouter, ctx: WebContext, cookies: Cookies, render: Callable[..., Response],
                      lang_of: Callable[[Request], str]) -> None:  # fmt: skip
    def local_month() -> int:
        return ctx.now().astimezone(ctx.tz).month

    def choices() -> list[seg.Segment]:
        out = [seg.Segment("all")]
        out += [seg.Segment("rfm", name) for name in seg.RFM_SEGMENTS]
        out += [seg.Segment("tier", t["name"]) for t in ctx.program.summary().get("tiers", [])]
        out += [seg.Segment("birthday")]
        return out

    @router.get("/segments")
    def segments(
        request: Request,
        kind: Annotated[str, Query(max_length=16)] = "all",
        value: Annotated[str, Query(max_length=40)] = "",
        days: Annotated[str, Query(max_length=5)] = "90",
    ) -> Response:
        session = require(ctx, request, cookies, role="manager")
        if kind == "inactive":
            value = days
        chosen = seg.parse_segment(kind, value)
        error = None
        if chosen is None:
            chosen, error = seg.Segment("all"), text("segments.bad", lang_of(request))
        counts = seg.count(ctx.reader.conn, chosen, ctx.now(), local_month())
        return render(request, "segments.html", 422 if error else 200, session=session, chosen=chosen,
                      counts=counts, choices=choices(), days=days if days.isdigit() else "90", error=error,
                      rfm=seg)  # fmt: skip

    @router.get("/segments/export.csv")
    def export(
        request: Request,
        channel: Annotated[str, Query(max_length=8)],
        kind: Annotated[str, Query(max_length=16)] = "all",
        value: Annotated[str, Query(max_length=40)] = "",
    ) -> Response:
        session = require(ctx, request, cookies, role="manager")
        chosen = seg.parse_segment(kind, value)
        if chosen is None or channel not in seg.CHANNELS:
            return Response(text("segments.bad", lang_of(request)), status_code=422, media_type="text/plain")
        rows = seg.export_rows(ctx.reader.conn, chosen, channel, ctx.now(), local_month())
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_HEADER[channel])
        for row in rows:
            writer.writerow([seg.csv_cell(v) for v in row])
        ctx.audit(actor(session.user, request), "segment.export", chosen.key,
                  {"channel": channel, "rows": len(rows)}, wait=True)  # fmt: skip
        stamp = iso(ctx.now())[:10]
        name = f"fidelio-{chosen.key.replace(':', '-')}-{channel}-{stamp}.csv"
        return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
