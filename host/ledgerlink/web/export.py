"""``GET /api/export``: ``ledgerlink export`` over HTTP, streamed (:mod:`ledgerlink.engine.export`)."""

from __future__ import annotations

import datetime as dt

from flask import Response as FlaskResponse, request, stream_with_context

from ledgerlink.engine.export import FORMATS, day_range, export
from ledgerlink.errors import InvalidRequest
from ledgerlink.web.responses import runtime
from ledgerlink.web.routes import ApiBlueprint

api = ApiBlueprint("export", __name__, operation_prefix="")

DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


@api.operation("/api/export", ("GET",), "The invoices, payments, credit notes, refunds, fees and payouts "
               "booked by the runs planned between two days (UTC), one row each with its ledger id, as CSV "
               "or an Excel workbook, streamed.",
               query={"since": ("the first day, YYYY-MM-DD (required)", DATE),
                      "until": ("the last day, included, YYYY-MM-DD (default: today)", DATE),
                      "format": ("csv (default) or xlsx", {"enum": list(FORMATS)})},
               media_type=("text/csv", FORMATS["xlsx"]),
               responses={200: "the export, a row per booked step",
                          400: "a missing or unreadable date, or an unknown format"})
def export_rows() -> FlaskResponse:
    rt = runtime()
    kind = request.args.get("format", "csv")
    if kind not in FORMATS:
        raise InvalidRequest(f"query parameter 'format' must be one of {', '.join(FORMATS)}")
    if "since" not in request.args:
        raise InvalidRequest("query parameter 'since' is required: the first day, YYYY-MM-DD")
    since, until = request.args["since"], request.args.get("until")
    start, end = day_range(since, until, dt.datetime.now(dt.timezone.utc).date())
    chunks = export(rt.store, rt.catalog, start, end, kind)
    name = f"ledgerlink-export-{since}-{until or 'today'}.{kind}"
    return FlaskResponse(stream_with_context(chunks), status=200, content_type=FORMATS[kind],
                         headers={"Content-Disposition": f'attachment; filename="{name}"'})
