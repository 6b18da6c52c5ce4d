"""Dry-run: the live path with the sending cut.

Mapping, input validation and the actions' requests are produced exactly as a live run
would produce them; the first request of each step is shown as it would be sent (secrets
redacted) and answered with the action's sample response, so later requests and later
steps can be shown too. A file effect is shown the same way (kind, mode, path, the exact
content) and answered as its first attempt would be; an email likewise (server, envelope, the
exact message), answered as if every recipient were accepted. Nothing is sent, nothing is written.
A recipe's ``linked`` ids are answered "no link" (a dry-run reads no database) and its
``skip`` rules asked on that; whether the event is ledgerlink's own echo is not asked.
A reviewed run shown again after its earlier steps were sent is planned with their real
answers (``done``): those steps are shown ``sent``, and the later ones built on what they returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.io import files, mail, outbound
from ledgerlink.contract import (Action, ActionContext, FileEffect, FileResult, IncomingEvent, LinkQuery,
                                 Request, Response, reports)
from ledgerlink.contract.mail import MailResult, SendMail
from ledgerlink.contract.reports import RunsQuery
from ledgerlink.connectors.catalog import Catalog, Validator
from ledgerlink.config import Config
from ledgerlink.contract.reconcile import ReconcileQuery, empty_report
from ledgerlink.errors import ConfigError, EventError
from ledgerlink.recipes.guards import Linked, first_skip, read_linked
from ledgerlink.recipes.paths import ANSWERS_READ, pointer_join
from ledgerlink.recipes.recipe import Recipe, Step
from ledgerlink.engine.runner import StepResult, document, run_step


def event_from_payload(recipe: Recipe, catalog: Catalog, payload: Any, body: bytes | None,
                       file: str) -> IncomingEvent:
    """The event a dry-run uses: parsed the way the trigger's webhook would parse it."""
    trigger = recipe.trigger
    connector = catalog.connectors[trigger.connector]
    if connector.webhook is not None and body is not None:
        events = connector.webhook.parse({}, body)
        if not events:
            raise EventError(f"{file}: holds no event")
        event = events[0]
    else:
        if not isinstance(payload, Mapping):
            raise EventError(f"{file}: an event is a JSON object")
        event = IncomingEvent(id=str(payload.get("id", "sample")), trigger=trigger.name, payload=payload)
    if event.trigger != trigger.name:
        raise EventError(f"{file}: this is a {event.trigger!r} event, but recipe {recipe.id!r} is "
                         f"triggered by {trigger.name!r}; pass an event of that type")
    validator = Validator(trigger.event_schema)
    problems = [f"{file}:{pointer_join('', *e.absolute_path) or '/'}: {e.message}"
                for e in sorted(validator.iter_errors(event.payload), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        raise EventError(f"the event does not fit trigger {trigger.name!r}:\n" + "\n".join(problems))
    return event


#: ``linked(connection, query)``: the id a link query is answered with (None: no link)
LinkAnswer = Callable[[str, LinkQuery], "str | None"]


def dry_run(recipe: Recipe, catalog: Catalog, config: Config, event: IncomingEvent | None = None,
            linked: LinkAnswer | None = None, key_generation: int = 0,
            done: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The dry-run report of one recipe on one event (the trigger's sample if none).

    Without ``linked``, a link query is answered as if nothing were linked yet (a dry-run
    reads no database); a run awaiting review (:mod:`ledgerlink.engine.review`) answers it
    from the links table, and shows the idempotency keys of its ``key_generation``.
    ``done`` holds the real outputs of the steps a run already sent: they are not run again
    (shown ``"status": "sent"``), and the later steps read their real answers."""
    warnings: list[str] = []
    if event is None:
        sample = recipe.trigger.sample
        event = IncomingEvent(id=str(sample.get("id", "sample")), trigger=recipe.trigger.name, payload=sample)
        warnings.append(f"no event given; using the sample event of trigger {recipe.trigger.name!r}")
    report: dict[str, Any] = {
        "recipe": {"id": recipe.id, "version": recipe.version, "file": recipe.file},
        "event": {"id": event.id, "trigger": event.trigger},
        "matched": recipe.matches(document(recipe, event)),
        "enabled": recipe.enabled,
        "steps": [],
        "warnings": warnings,
        "sent": False,
    }
    if not report["matched"]:
        return report

    connections = {}

    def connection_for(name: str):
        if name not in connections:
            connection = config.connection(name, catalog)
            if connection.implicit:
                warnings.append(f"connection {name!r} is not configured; showing the connector's "
                                f"default settings (configure it in ledgerlink.toml)")
            connections[name] = connection
        return connections[name]

    def secret_values(name: str) -> list[str]:
        """The connection's configured secret values, redacted from a file's content; none
        when they cannot be read (a dry-run needs no secret)."""
        try:
            values = config.secrets(name, catalog) if name in config.connections else {}
        except ConfigError:
            return []
        return [v for v in values.values() if isinstance(v, str)]

    shown: dict[str, list[dict[str, Any]]] = {}
    lookups: dict[str, list[dict[str, Any]]] = {}

    def send(step: Step, action: Action, ctx: ActionContext,
             request: Request | LinkQuery | RunsQuery | FileEffect | SendMail) -> Response | FileResult | MailResult:
        if isinstance(request, LinkQuery):  # a dry-run reads no database: as if nothing were linked yet
            target = None if linked is None else linked(step.connection, request)
            answer = ("no link (a dry-run reads no database)" if linked is None
                      else f"linked to {target}" if target is not None else "no link")
            lookups.setdefault(step.id, []).append({"source_id": request.source_id,
                                                    "target_type": request.target_type,
                                                    "answered_with": answer})
            return Response(status=200, json={"target_id": target})
        if isinstance(request, RunsQuery):  # shown as a request is; a dry-run reads no database
            shown.setdefault(step.id, []).append({"query": "runs", "since": request.since, "until": request.until,
                                                  "answered_with": "an empty window (a dry-run reads no database)"})
            return Response(status=200, json=reports.empty_answer(request))
        if isinstance(request, ReconcileQuery):  # shown as a request is; a dry-run reconciles nothing
            shown.setdefault(step.id, []).append({"reconcile": {"since": request.since, "until": request.until,
                                                                "connection": request.connection}})
            return Response(status=200, json=empty_report(request))
        if isinstance(request, FileEffect):  # shown as a request is; answered as a first attempt is
            files.relative_path(request)  # a path the live run would refuse fails the dry-run too
            shown.setdefault(step.id, []).append(files.describe(request, secret_values(step.connection)))
            return files.first_answer(request)
        if isinstance(request, SendMail):  # the server, the envelope, the exact message; nothing sent
            settings = connection_for(step.connection).settings
            shown.setdefault(step.id, []).append(mail.describe(request, settings, secret_values(step.connection)))
            return mail.first_answer(request)
        connector = catalog.connectors[action.connector]
        auth = {}
        if connector.auth is not None:
            settings = connection_for(step.connection).settings
            auth = connector.auth({**{name: settings[name] for name in connector.auth_settings
                                      if name in settings},
                                   **{name: outbound.REDACTED for name in connector.secret_settings}})
        sign = None
        if connector.sign_request is not None:  # shown with each signature header, its value redacted
            sign = lambda body: {name: outbound.REDACTED for name in connector.signed_headers}  # noqa: E731
        http = outbound.build(request, auth, sign)
        if request.form is not None:
            body = outbound.shown_body(request)
        else:
            body = jsonio.loads(http.content) if http.content else None
        described = outbound.describe(http, body, secret_headers=[*auth.keys(), *connector.signed_headers])
        if request.url_secret:  # the address is a credential: named, never shown
            described["url"] = f"{outbound.REDACTED} (the address in secret {request.url_secret!r})"
        if shown.get(step.id):
            described["answered_with"] = "sample response (an earlier request of this step was not sent)"
        shown.setdefault(step.id, []).append(described)
        return action.sample_response_for(request)

    asked: dict[str, Any] = {}

    def source_of(lookup: Linked, entity_id: str) -> None:  # a dry-run reads no database
        asked[lookup.name] = {"connection": lookup.connection, "id": entity_id,
                              "answered_with": "no link (a dry-run reads no database)"}

    doc = document(recipe, event)
    doc["linked"] = read_linked(recipe.linked, doc, source_of)
    if asked:
        report["linked"] = asked
    skip = first_skip(recipe.skips, doc)
    if skip is not None:
        report["skipped"] = {"as": skip[0], "reason": skip[1]}
        return report
    done, read = done or {}, {}
    results = []
    for step in recipe.steps:
        if step.id in done:  # sent already: its real answer, nothing sent again
            result = StepResult(step.id, step.action.name, step.connection, "sent", output=done[step.id])
        else:  # the earlier steps' answers its mapping reads are recorded (a review checks them)
            doc[ANSWERS_READ] = read[step.id] = {}
            result = run_step(recipe, step, doc, event, connection_for(step.connection), send,
                              key_generation=key_generation)
            del doc[ANSWERS_READ]
        doc["steps"][step.id] = result.output if result.status in ("succeeded", "sent") else None
        results.append(result)
    for result in results:
        requests = shown.get(result.id, [])
        report["steps"].append({
            "id": result.id, "action": result.action, "connection": result.connection,
            "status": {"skipped": "skipped", "sent": "sent"}.get(result.status, "would_run"),
            "input": result.input,
            "request": requests[0] if requests else None,
            **({"later_requests": requests[1:]} if len(requests) > 1 else {}),
            **({"link_lookups": lookups[result.id]} if result.id in lookups else {}),
            **({"answers_read": read[result.id]} if read.get(result.id) else {}),
            "sample_output": result.output,
        })
    return report
