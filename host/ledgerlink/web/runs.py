"""Views of runs: list and filter them, one run in full, replay and undo; approve or reject
runs awaiting review."""

from __future__ import annotations

import math

from flask import Response as FlaskResponse, request

from ledgerlink.errors import InvalidRequest, error_body
from ledgerlink.web.recipes import RECIPE_ID, RECIPE_ID_PATTERN
from ledgerlink.web.responses import body_json, error, json_response, runtime
from ledgerlink.web.routes import ApiBlueprint

#: the largest run id (and recipe version) the database's INTEGER columns hold
MAX_ID = 2_147_483_647
RUN_STATUSES = ("pending", "running", "retrying", "succeeded", "failed", "dead", "paused", "undone",
                "awaiting_review", "rejected", "skipped")
#: the most runs one approve or reject names
MAX_REVIEWED = 1000
REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "runs": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                 "maxItems": MAX_REVIEWED, "description": "the ids of the runs (or \"all\": true)"},
        "all": {"type": "boolean", "description": "every run awaiting review (of \"recipe\" when given)"},
        "recipe": {"type": "string", "pattern": f"^{RECIPE_ID_PATTERN}$"},
        "by": {"type": "string", "maxLength": 100, "description": "who reviews (default: \"api\")"},
        "reason": {"type": "string", "maxLength": 2000, "description": "reject: why, stored with the run"},
    },
}

api = ApiBlueprint("runs", __name__, operation_prefix="")


def _float_arg(name: str) -> float | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidRequest(f"query parameter {name!r} must be a Unix time in seconds")
    return number


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None:
        return default
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None
    if number is None or not low <= number <= high:
        raise InvalidRequest(f"query parameter {name!r} must be an integer from {low} to {high}")
    return number


@api.operation("/api/runs", ("GET",), "List runs, newest first; filter by status, recipe and time; paginated.",
               query={"status": ("only runs in this state", {"enum": list(RUN_STATUSES)}),
                      "recipe": ("only runs of this recipe id",
                                 {"type": "string", "pattern": f"^{RECIPE_ID_PATTERN}$"}),
                      "since": ("only runs created at or after this Unix time", {"type": "number"}),
                      "until": ("only runs created before this Unix time", {"type": "number"}),
                      "limit": ("page size", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
                      "after": ("continue after this run id (the page's next)",
                                {"type": "integer", "minimum": 0, "maximum": MAX_ID})},
               responses={200: "a page of runs", 400: "a query parameter is out of its range"})
def list_runs() -> FlaskResponse:
    rt = runtime()
    limit = _int_arg("limit", 50, 1, 500)
    after = _int_arg("after", None, 0, MAX_ID)
    status, recipe_id = request.args.get("status"), request.args.get("recipe")
    if status is not None and status not in RUN_STATUSES:
        raise InvalidRequest(f"query parameter 'status' must be one of {', '.join(RUN_STATUSES)}")
    if recipe_id is not None and not RECIPE_ID.fullmatch(recipe_id):
        raise InvalidRequest("query parameter 'recipe' must be a recipe id")
    rows = rt.store.list_runs(status=status, recipe_id=recipe_id, since=_float_arg("since"),
                              until=_float_arg("until"), after_id=after, limit=limit)
    return json_response({"runs": rows, "next": rows[-1]["id"] if len(rows) == limit else None})


@api.operation(f"/api/runs/<int(max={MAX_ID}):run_id>", ("GET",),
               "One run with its event, every step attempt and the links it created.",
               responses={200: "the run", 404: "no run of that id"})
def get_run(run_id: int) -> FlaskResponse:
    row = runtime().store.run(run_id)
    if row is None:
        return error(404, "not_found", f"no run {run_id}")
    return json_response(row)


@api.operation(f"/api/runs/<int(max={MAX_ID}):run_id>/replay", ("POST",),
               "Replay a run on its own recipe version or on the latest; as a dry-run first with dry_run=true.",
               request_schema={"type": "object", "properties": {"version": {"enum": ["own", "latest"]},
                                                                "dry_run": {"type": "boolean"}}},
               responses={200: "the dry-run report", 202: "the run is pending again", 404: "no run of that id",
                          409: "the run is not failed, dead, rejected, skipped or undone, or the event already ran on that version",
                          422: "the body is not an object, or the recipe version no longer loads"})
def replay_run(run_id: int) -> FlaskResponse:
    from ledgerlink.engine.operations import replay
    data = body_json()
    version, dry = (data.get("version", "own"), data.get("dry_run", False)) if isinstance(data, dict) else (0, 0)
    if version not in ("own", "latest") or not isinstance(dry, bool):
        return error(422, "invalid_request", "send {\"version\": \"own\"|\"latest\", \"dry_run\": true|false}")
    result = replay(runtime(), run_id, version, dry)
    return json_response(result, 200 if result.get("dry_run") else 202)


@api.operation(f"/api/runs/<int(max={MAX_ID}):run_id>/undo", ("POST",),
               "Void or delete every entity the run created, newest first.",
               responses={200: "undone", 404: "no run of that id",
                          409: "the run has not finished, created entities that cannot be undone, or its "
                               "connection needs reconnecting",
                          422: "the vendor refused a void or delete", 502: "the vendor is failing; try again"})
def undo_run(run_id: int) -> FlaskResponse:
    from ledgerlink.engine.operations import undo
    return json_response(undo(runtime(), run_id))


def _review(decision: str) -> FlaskResponse:
    """Approve or reject the runs the body names; a result per run, in the one error shape
    for a run that is not awaiting review (or does not exist)."""
    data = body_json()
    data = data if isinstance(data, dict) else None
    ids = data.get("runs", []) if data else None
    everything = data.get("all", False) if data else None
    by, reason, recipe_id = (data.get("by", "api"), data.get("reason"), data.get("recipe")) if data else (0, 0, 0)
    if (not isinstance(ids, list) or len(ids) > MAX_REVIEWED or not isinstance(everything, bool)
            or not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID for i in ids)
            or bool(ids) == everything or not isinstance(by, str) or not 0 < len(by) <= 100
            or not (reason is None or isinstance(reason, str) and len(reason) <= 2000)
            or not (recipe_id is None or isinstance(recipe_id, str) and RECIPE_ID.fullmatch(recipe_id))):
        return error(422, "invalid_request",
                     f"send {{\"runs\": [RUN, ...]}} (at most {MAX_REVIEWED}) or {{\"all\": true}}, with "
                     f"\"recipe\": ID (with all), \"by\": WHO and, to reject, \"reason\": TEXT")
    store = runtime().store
    ids = ids or store.awaiting_review(recipe_id)
    if decision == "approved":
        results = store.approve(ids, by)
        runtime().wake()
    else:
        results = store.reject(ids, by, reason)
    out = []
    for run_id, (decided, status) in results.items():
        if decided:
            out.append({"run": run_id, "status": decision})
        elif status is None:
            out.append({"run": run_id, **error_body(404, "not_found", f"no run {run_id}")})
        else:
            out.append({"run": run_id, **error_body(409, "conflict", f"run {run_id} is {status}, not "
                                                    f"awaiting review; it was not {decision}")})
    return json_response({"results": out, decision: sum(r.get("status") == decision for r in out)})


@api.operation("/api/runs/approve", ("POST",),
               "Approve runs awaiting review: each sends the requests it showed, unless they changed (then "
               "it awaits review again, saying why). A result per run.",
               request_schema=REVIEW_SCHEMA,
               responses={200: "a result per run: approved, or an error (404 no such run, 409 not awaiting review)",
                          422: "the body names no runs, or is not of the schema"})
def approve_runs() -> FlaskResponse:
    return _review("approved")


@api.operation("/api/runs/reject", ("POST",),
               "Reject runs awaiting review, with who and why: they send nothing (a replay shows one again). "
               "A result per run.",
               request_schema=REVIEW_SCHEMA,
               responses={200: "a result per run: rejected, or an error (404 no such run, 409 not awaiting review)",
                          422: "the body names no runs, or is not of the schema"})
def reject_runs() -> FlaskResponse:
    return _review("rejected")
