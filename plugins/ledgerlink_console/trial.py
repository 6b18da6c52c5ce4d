"""Trial sync: an active recipe dry-run on one event, and that one event sent for real.

The operator picks a recipe (``GET /console/trial?recipe=…`` lists the events it can run on),
then an event: one of its trigger's samples, event JSON pasted from the vendor's dashboard,
or one of the latest events its connection received. The dry-run (``POST /console/trial``;
a sample or a stored event also by ``GET``, so the page can be linked to) shows, per step,
the mapped input beside the exact request (method, address, headers with every secret
redacted, body), the trigger filter's verdict, a skip rule's reason, or the mapping error
with its pointer in the recipe and its fix. Nothing is sent; text that is not JSON is
answered on the page (422), never with an error page.

"Send this one for real" leads to a confirmation page (``POST /console/trial/confirm``, which
changes nothing) stating the recipe version, the event and the requests the run will send;
its form POSTs to ``/console/trial/send``, which hands the event to the host's inbox
(:meth:`ledgerlink.web.operator.Operator.submit`): stored once, its run planned once, run by a
worker. The browser is sent to the run's page to watch it; an event already booked is
answered with the run that booked it, and nothing is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, redirect, request

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent
from ledgerlink.errors import LedgerlinkError, MappingError
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.web.operator import MAX_ID, operator
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page

#: how an event is chosen: one of the trigger's samples, pasted JSON, or a stored event
SOURCES = ("sample", "paste", "stored")


@dataclass(frozen=True)
class Chosen:
    """The recipe and the event of a trial, and the form fields that choose them again."""

    recipe: Recipe
    event: IncomingEvent
    #: ``source``, ``sample``, ``stored``, ``pasted``: carried by the confirmation's form
    fields: dict[str, str]
    #: how the event was chosen, in words
    described: str


class Refused(Exception):
    """A trial that cannot be run as asked: the page says why, with this status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _recipe(recipe_id: str) -> Recipe | None:
    return next((r for r in operator().active_recipes() if r.id == recipe_id), None)


def _number(value: str, what: str) -> int:
    if not value.isdigit() or int(value) > MAX_ID:
        raise Refused(f"pick {what} from the list")
    return int(value)


def _choose(recipe: Recipe, form: Any) -> Chosen:
    """The event the form's fields choose for ``recipe``. Raises Refused."""
    op = operator()
    source = form.get("source", "sample")
    fields = {"source": source}
    if source == "sample":
        samples = op.trial_samples(recipe)
        index = _number(form.get("sample", "0") or "0", "a sample")
        if index >= len(samples):
            raise Refused(f"recipe {recipe.id} has {len(samples)} sample(s); pick one from the list")
        fields["sample"] = str(index)
        label, event = samples[index]
        if form.get("event"):  # the sample as confirmed (an example delivery's id is made anew each time)
            try:
                event = op.pasted_event(recipe, form["event"])
            except LedgerlinkError as exc:
                raise Refused(exc.message) from None
        fields["event"] = event.raw if isinstance(event.raw, str) else jsonio.dumps(event.payload)
        return Chosen(recipe, event, fields, f"sample: {label}")
    if source == "stored":
        pk = _number(form.get("stored", ""), "a recent event")
        fields["stored"] = str(pk)
        try:
            event = op.stored_event(recipe, pk)
        except LedgerlinkError as exc:
            raise Refused(exc.message, 404) from None
        return Chosen(recipe, event, fields, f"stored event {event.id}")
    if source == "paste":
        text = form.get("pasted", "")
        fields["pasted"] = text
        try:
            event = op.pasted_event(recipe, text)
        except LedgerlinkError as exc:
            raise Refused(exc.message) from None
        return Chosen(recipe, event, fields, f"pasted event {event.id}")
    raise Refused(f"the event's source is one of {', '.join(SOURCES)}")


def _error(exc: LedgerlinkError) -> dict[str, Any]:
    """A mapping (or input) error as the page shows it: where in the recipe, and the fix."""
    if isinstance(exc, MappingError):
        return {"pointer": exc.pointer or "/", "step": exc.step, "path": exc.path, "message": exc.reason,
                "whole": exc.message}
    return {"pointer": exc.details.get("pointer", ""), "step": "", "path": "", "message": exc.message,
            "whole": exc.message}


def _trial(recipe: Recipe, form: Any) -> tuple[int, dict[str, Any]]:
    """The status and context of the trial page for ``recipe`` with the form's choice."""
    op = operator()
    context: dict[str, Any] = {"form": form}
    try:
        chosen = _choose(recipe, form)
    except Refused as exc:
        return exc.status, {**context, "problem": exc.message}
    context["chosen"] = chosen
    try:
        context["report"] = op.dry_run(recipe, chosen.event)
    except LedgerlinkError as exc:
        return 422, {**context, "mapping_error": _error(exc)}
    return 200, context


def _page(recipe: Recipe | None, status: int = 200, **context: Any) -> Response:
    op = operator()
    recipes = op.active_recipes()
    if recipe is None and recipes:
        recipe = recipes[0]
    extra: dict[str, Any] = {}
    if recipe is not None:
        extra = {"samples": [label for label, _ in op.trial_samples(recipe)], "recent": op.recent_events(recipe),
                 "filter": recipe.raw.get("trigger", {}).get("filter")}
    context.setdefault("form", {})
    return page("trial.html", status, nav="trial", recipes=recipes, recipe=recipe, **extra, **context)


def _recipe_or_page(recipe_id: str) -> Recipe | Response:
    recipe = _recipe(recipe_id)
    if recipe is None:
        return _page(None, 404, problem=f"no active recipe {recipe_id!r}; pick one from the list "
                                        f"(the Recipes page loads and reloads them)" if recipe_id else
                     "pick a recipe")
    return recipe


@console.get("/trial")
def trial() -> Response:
    recipe_id = request.args.get("recipe", "")
    if not recipe_id:
        return _page(None)
    recipe = _recipe_or_page(recipe_id)
    if isinstance(recipe, Response):
        return recipe
    if request.args.get("source") in ("sample", "stored"):  # a dry-run is read-only: a link may run it
        status, context = _trial(recipe, request.args)
        return _page(recipe, status, **context)
    return _page(recipe)


@console.post("/trial")
def trial_post() -> Response:
    recipe = _recipe_or_page(request.form.get("recipe", ""))
    if isinstance(recipe, Response):
        return recipe
    status, context = _trial(recipe, request.form)
    return _page(recipe, status, **context)


def _confirmation(status: int = 200, **context: Any) -> Response:
    return page("trial_confirm.html", status, nav="trial", **context)


@console.post("/trial/confirm")
def trial_confirm() -> Response:
    recipe = _recipe_or_page(request.form.get("recipe", ""))
    if isinstance(recipe, Response):
        return recipe
    status, context = _trial(recipe, request.form)
    if status != 200:
        return _page(recipe, status, **context)
    if not recipe.enabled:
        return _page(recipe, 409, **context, problem=f"recipe {recipe.id} is disabled, so it books nothing: enable "
                                                     f"it and reload the recipes to send an event through it")
    if not context["report"]["matched"] or "skipped" in context["report"]:
        return _page(recipe, 409, **context, problem="this event would not be booked, so there is nothing to "
                                                     "send for real; see why below")
    return _confirmation(recipe=recipe, **context)


@console.post("/trial/send")
def trial_send() -> Response:
    recipe = _recipe_or_page(request.form.get("recipe", ""))
    if isinstance(recipe, Response):
        return recipe
    confirmed = request.form.get("version", "")
    if confirmed != str(recipe.version):  # reloaded since the confirmation was shown
        status, context = _trial(recipe, request.form)
        if status != 200:
            return _page(recipe, status, **context)
        return _confirmation(409, recipe=recipe, **context,
                             problem=f"recipe {recipe.id} is at version {recipe.version} now, not version "
                                     f"{confirmed or '?'} as confirmed; check what it will send and confirm again")
    try:
        chosen = _choose(recipe, request.form)
        submitted = operator().submit(recipe, chosen.event)
    except Refused as exc:
        return _page(recipe, exc.status, problem=exc.message)
    except LedgerlinkError as exc:
        status, context = _trial(recipe, request.form)
        if status != 200:
            return _page(recipe, status, **context)
        return _confirmation(exc.status, recipe=recipe, **context, problem=exc.message)
    if submitted.planned:
        return redirect(f"/console/runs/{submitted.run_id}", 303)
    if submitted.fetching:
        notice = (f"Event {chosen.event.id} is stored; its {recipe.trigger.connector} object is fetched first, then "
                  f"its run is planned: find it in the sync log by its source id.")
    elif submitted.run_id is not None:
        notice = (f"Event {chosen.event.id} was sent before: run {submitted.run_id} books it, so nothing was sent "
                  f"again.")
    else:
        notice = (f"Recipe {recipe.id} already booked the object of event {chosen.event.id} from another event, "
                  f"so nothing was sent again; find its run in the sync log.")
    return _page(recipe, 200, notice=notice, booked_by=submitted.run_id, source_id=chosen.event.id)
