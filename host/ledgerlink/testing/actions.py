"""Driving a connector's generators by hand: actions, finds, undos, polls and webhooks.

An action is sans-I/O: ``perform(input, ctx)`` (and ``find_existing``, ``undo``, a
trigger's ``fetch``, a poll) yields :class:`~ledgerlink.contract.Request` or
:class:`~ledgerlink.contract.LinkQuery` and is sent a :class:`~ledgerlink.contract.Response`
for each. A test answers them the way it needs::

    from ledgerlink.testing import Script, drive

    driven = drive(action.perform(data, ctx), Script({"Invoice": {"Id": "9"}}))
    assert driven.value == {...}
    assert driven.requests[0].method == "POST"

``answer`` is a :class:`Script` (answers in order), any ``f(request) -> Response`` (a
:class:`HttpSender` sends it to a loopback sandbox as the host would) or a plain list.
Link queries are answered from a :class:`LinkTable`, as the host answers them from its
links table. Webhook bodies are read with :func:`read_webhook`, exactly as the host's inbox
verifies and parses them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledgerlink import jsonio
from ledgerlink.contract import (ActionContext, Connection, Connector, IncomingEvent, LinkQuery,
                                 Request, Response)
from ledgerlink.engine.fetching import poll_result
from ledgerlink.io import outbound

#: what an action generator yields, is sent and returns
Steps = Generator[Request | LinkQuery, Response, Any]
#: answers one request
Answer = Callable[[Request], Response]
#: a scripted answer: a Response, or a JSON body answered with status 200
Scripted = Response | Mapping[str, Any] | list[Any]


def as_response(answer: Scripted) -> Response:
    """``answer`` as a Response: a JSON body (object or array) is a 200 answer carrying it."""
    if isinstance(answer, Response):
        return answer
    return Response(status=200, headers={"Content-Type": "application/json"}, json=answer)


class Script:
    """Answers in the order given; a request past the last answer fails the test.

    ``Script(Response(404), {"Invoice": {...}})`` answers the first request with a 404 and
    the second with a 200 carrying the body. :attr:`left` is what was not asked for.
    """

    def __init__(self, *answers: Scripted) -> None:
        self.left: list[Response] = [as_response(answer) for answer in answers]

    def __call__(self, request: Request) -> Response:
        if not self.left:
            raise AssertionError(f"the generator sent one request more than the script answers: "
                                 f"{request.method} {request.url}")
        return self.left.pop(0)


class LinkTable:
    """The host's links table as an action sees it: (source id, target type) -> target id.

    :meth:`answer` replies to a :class:`~ledgerlink.contract.LinkQuery` as the host does;
    :meth:`record` keeps the link a step's output declares (``{"id": …, "link":
    {"source_id": …, "target_type": …}}``), the first one winning, as the store keeps it.
    """

    def __init__(self, rows: Mapping[tuple[str, str], str] | None = None) -> None:
        self.rows: dict[tuple[str, str], str] = dict(rows or {})
        #: every query asked, in order
        self.asked: list[LinkQuery] = []

    def answer(self, query: LinkQuery) -> Response:
        self.asked.append(query)
        return Response(status=200, json={"target_id": self.rows.get((query.source_id, query.target_type))})

    def record(self, output: Mapping[str, Any] | None) -> None:
        link = output.get("link") if isinstance(output, Mapping) else None
        if isinstance(link, Mapping) and output is not None and output.get("id") is not None:
            self.rows.setdefault((link["source_id"], link["target_type"]), str(output["id"]))


@dataclass
class Driven:
    """What a generator did: the value it returned and every request it yielded, in order."""

    value: Any = None
    requests: list[Request] = field(default_factory=list)
    link_queries: list[LinkQuery] = field(default_factory=list)


def drive(steps: Steps, answer: Answer | Sequence[Scripted], links: LinkTable | None = None,
          before_send: Callable[[Request], None] | None = None, into: Driven | None = None) -> Driven:
    """Run ``steps`` to its return value, answering every request with ``answer``.

    ``answer`` is a callable or a sequence of scripted answers (see :class:`Script`). Link
    queries go to ``links`` (a fresh, empty :class:`LinkTable` if none: nothing linked yet).
    ``before_send(request)`` runs before each request is answered (another writer acting
    meanwhile). An exception the generator raises propagates, as it would in the host; pass
    ``into`` to keep what it requested before it raised.
    """
    reply: Answer = answer if callable(answer) else Script(*answer)
    links = links if links is not None else LinkTable()
    driven = into if into is not None else Driven()
    try:
        request = next(steps)
        while True:
            if isinstance(request, LinkQuery):
                driven.link_queries.append(request)
                response = links.answer(request)
            else:
                driven.requests.append(request)
                if before_send is not None:
                    before_send(request)
                response = reply(request)
            request = steps.send(response)
    except StopIteration as done:
        driven.value = done.value
    return driven


def first_request(steps: Steps) -> Request | LinkQuery:
    """The first thing ``steps`` yields, without answering it (the generator is closed)."""
    try:
        return next(steps)
    except StopIteration:
        raise AssertionError("the generator returned without yielding a request") from None
    finally:
        steps.close()


def response_of(http: httpx.Response) -> Response:
    """An httpx response as an action receives it (an unreadable JSON body is ``json=None``)."""
    try:
        body = jsonio.loads(http.content) if http.content else None
    except jsonio.JSONDecodeError:
        body = None
    return Response(status=http.status_code, headers=dict(http.headers), json=body, text=http.text)


class HttpSender:
    """Sends each request over HTTP as the host builds it (:func:`ledgerlink.io.outbound.build`
    with ``auth`` headers, the body signed by ``sign`` if given), typically to a sandbox on loopback.

    ``check(request)`` runs on every request before it leaves (a vendor-schema check);
    :attr:`sent` keeps every httpx response, in order.
    """

    def __init__(self, client: httpx.Client, auth: Mapping[str, str] | None = None,
                 check: Callable[[Request], None] | None = None,
                 sign: outbound.Signer | None = None) -> None:
        self.client = client
        self.auth = dict(auth or {})
        self.check = check
        #: ``sign(body) -> headers``, as the host signs (``Connector.sign_request``)
        self.sign = sign
        self.sent: list[httpx.Response] = []

    def __call__(self, request: Request) -> Response:
        if self.check is not None:
            self.check(request)
        http = self.client.send(outbound.build(request, self.auth, self.sign))
        self.sent.append(http)
        return response_of(http)


def over_http(steps: Steps, auth: Mapping[str, str] | None = None,
              check: Callable[[Request], None] | None = None, links: LinkTable | None = None,
              before_send: Callable[[Request], None] | None = None, into: Driven | None = None,
              timeout: float = 10.0) -> Driven:
    """:func:`drive` with every request sent over HTTP by a fresh :class:`HttpSender`."""
    with httpx.Client(timeout=timeout) as client:
        return drive(steps, HttpSender(client, auth, check), links=links, before_send=before_send,
                     into=into)


def context(connector: str, settings: Mapping[str, Any] | None = None, key: str = "test-key-1",
            connection: str | None = None, **ids: Any) -> ActionContext:
    """An :class:`~ledgerlink.contract.ActionContext` for a connection of ``connector``;
    ``ids`` sets ``recipe_id``, ``recipe_version``, ``step_id`` or ``event_id``."""
    return ActionContext(connection=Connection(connection or connector, connector, dict(settings or {})),
                         idempotency_key=key, **ids)


# --- triggers ------------------------------------------------------------------------------

def read_webhook(connector: Connector, body: bytes, headers: Mapping[str, str] | None = None,
                 secrets: Mapping[str, Any] | None = None, now: float | None = None) -> list[IncomingEvent]:
    """The events of one delivery, read as the host's inbox reads it.

    With ``secrets`` the signature is verified first (raising
    :class:`~ledgerlink.errors.SignatureError`, as the inbox would refuse it); headers are
    matched whatever their case, as on the wire.
    """
    if connector.webhook is None:
        raise AssertionError(f"connector {connector.name!r} receives no webhooks")
    wire = httpx.Headers(dict(headers or {}))
    if secrets is not None:
        connector.webhook.verify(wire, body, secrets, time.time() if now is None else now)
    return connector.webhook.parse(wire, body)


def signed_headers(connector: Connector, body: bytes, secrets: Mapping[str, Any],
                   now: float | None = None) -> dict[str, str]:
    """The headers the vendor would sign ``body`` with (the connector's ``webhook.sign``)."""
    if connector.webhook is None or connector.webhook.sign is None:
        raise AssertionError(f"connector {connector.name!r} cannot sign a webhook body")
    return dict(connector.webhook.sign(body, secrets, time.time() if now is None else now))


@dataclass
class Polled(Driven):
    """What a poll did (:func:`poll`): its value, requests and the warnings it returned."""

    warnings: list[str] = field(default_factory=list)


def poll(connector: Connector, cursor: str | None, ctx: ActionContext,
         answer: Answer | Sequence[Scripted]) -> tuple[list[IncomingEvent], str, Polled]:
    """One poll of ``connector`` from ``cursor``: (events, new cursor, what it requested and
    warned). The poll may return ``(events, cursor)`` or ``(events, cursor, warnings)``; the
    result is read as the host reads it, so a shape the host refuses fails here too."""
    if connector.poll is None:
        raise AssertionError(f"connector {connector.name!r} does not poll")
    driven = Polled()
    drive(connector.poll.poll(cursor, ctx), answer, into=driven)
    events, new_cursor, driven.warnings = poll_result(driven.value, connector.name)
    return events, new_cursor, driven

