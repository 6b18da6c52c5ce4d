"""Routes declared with their description, and how an app mounts them.

A view is declared once, with :meth:`ApiBlueprint.operation`: its rule, methods, summary,
whether it needs the admin token, its request schema, query parameters and answers. The
Flask rule and the view's entry in ``/openapi.json`` (:mod:`ledgerlink.web.openapi`) are
both built from that declaration, so the description cannot miss a route. The host's own
views are declared this way, and so may a plugin's (see ``ledgerlink_register_routes``).

:func:`mount` puts a blueprint on an app: every view that was not declared public needs
the admin token (a :class:`PageBlueprint`'s views its guard instead), and a plugin's rule that would answer a URL and method a mounted rule
already answers is refused with a :class:`~ledgerlink.errors.PluginError` naming the plugin.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Blueprint, Flask
from flask.typing import ResponseReturnValue

from ledgerlink.errors import PluginError
from ledgerlink.web.auth import admin_only

View = Callable[..., ResponseReturnValue]
#: one ``<converter(args):name>`` placeholder of a Flask rule
RULE_PARAM = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
#: where :func:`mount` keeps what it mounted, in ``app.extensions``
EXTENSION = "ledgerlink.routes"


@dataclass
class Route:
    """One declared view: what ``/openapi.json`` says about it, and who may call it."""

    rule: str
    methods: tuple[str, ...]
    view: View
    summary: str
    admin: bool = True
    request_schema: dict[str, Any] | None = None
    #: query parameter → (description, JSON Schema of its value)
    query: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: every status the view itself answers → what it means; the document adds the answers
    #: every route shares (401 for admin routes, 400/413 for bodies, 404 for path ids, 503)
    responses: dict[int, str] = field(default_factory=dict)
    #: the JSON Schema of its successful (200) JSON answer; None: not described
    response_schema: dict[str, Any] | None = None
    #: the media type of its successful answers (several: the one each answer says it is)
    media_type: str | tuple[str, ...] = "application/json"
    #: False for a view that never touches the database (no 503 is described for it)
    uses_store: bool = True
    #: the OpenAPI ``operationId`` prefix: empty for the host's views, the blueprint's name
    #: for a plugin's
    operation_prefix: str = ""

    @property
    def endpoint(self) -> str:
        """The Flask endpoint of this view, inside its blueprint."""
        return f"{self.view.__name__}_{'_'.join(self.methods).lower()}"

    def operation_id(self, method: str) -> str:
        return f"{self.operation_prefix}{self.view.__name__}_{method.lower()}"


Guard = Callable[[], ResponseReturnValue | None]


class PageBlueprint(Blueprint):
    """A Flask blueprint of HTML pages for people (a web console), not of the JSON API.

    Its views are not described in ``/openapi.json`` and do not take the bearer token: a
    browser signs in once and sends a cookie. Instead :func:`mount` calls ``guard()`` before
    every view of the blueprint; a view runs only when it returns None (else its answer, a
    redirect to a login page say, is given). The views named in ``open_views`` (a login page)
    and the blueprint's static files are not guarded.
    """

    def __init__(self, name: str, import_name: str, *, guard: Guard, open_views: tuple[str, ...] = (),
                 **options: Any) -> None:
        super().__init__(name, import_name, **options)
        self.guard = guard
        self.open_views = frozenset(open_views) | {"static"}


def guarded(view: View, guard: Guard) -> View:
    """``view`` answered only when ``guard()`` lets it through (returns None)."""

    @functools.wraps(view)
    def wrapped(*args: object, **kwargs: object) -> ResponseReturnValue:
        denied = guard()
        if denied is not None:
            return denied
        return view(*args, **kwargs)

    return wrapped


class ApiBlueprint(Blueprint):
    """A Flask blueprint whose views are declared with :meth:`operation`, so each is
    described in ``/openapi.json`` and is admin-only unless declared ``admin=False``.

    Views added the plain Flask way (``@blueprint.route``) still work, are never described,
    and always need the admin token.
    """

    def __init__(self, name: str, import_name: str, *, operation_prefix: str | None = None,
                 **options: Any) -> None:
        super().__init__(name, import_name, **options)
        self.operation_prefix = f"{name}_" if operation_prefix is None else operation_prefix
        #: the declared views, in declaration order
        self.operations: list[Route] = []

    def operation(self, rule: str, methods: tuple[str, ...], summary: str, admin: bool = True, *,
                  request_schema: dict[str, Any] | None = None,
                  query: dict[str, tuple[str, dict[str, Any]]] | None = None,
                  responses: dict[int, str] | None = None,
                  media_type: str | tuple[str, ...] = "application/json",
                  uses_store: bool = True,
                  response_schema: dict[str, Any] | None = None) -> Callable[[View], View]:
        """Declare the decorated view for ``rule`` and ``methods``, described as the fields of
        :class:`Route` of the same names say."""

        def decorate(view: View) -> View:
            declared = Route(rule, methods, view, summary, admin, request_schema, dict(query or {}),
                             dict(responses or {}), response_schema, media_type, uses_store,
                             self.operation_prefix)
            self.operations.append(declared)
            self.add_url_rule(rule, endpoint=declared.endpoint, view_func=view, methods=list(methods))
            return view

        return decorate


@dataclass
class Mounted:
    """What :func:`mount` put on one app: its described routes, and who supplied each rule."""

    routes: list[Route] = field(default_factory=list)
    #: (rule as the app matches it, methods, the plugin that supplied it or None for the host)
    rules: list[tuple[str, frozenset[str], str | None]] = field(default_factory=list)


def mounted(app: Flask) -> Mounted:
    """What is mounted on ``app`` (nothing yet when :func:`mount` was never called)."""
    return app.extensions.setdefault(EXTENSION, Mounted())


def _segments(rule: str) -> list[str | None]:
    """``rule``'s path segments, ``None`` for a parameter (``...`` for one that spans segments)."""
    out: list[str | None] = []
    for part in rule.strip("/").split("/"):
        match = RULE_PARAM.search(part)
        if match is None:
            out.append(part)
        else:
            out.append("..." if match.group(1) == "path" else None)
    return out


def _overlap(a: str, b: str) -> bool:
    """True when some URL could match both rules (a parameter may match any segment)."""
    left, right = _segments(a), _segments(b)
    for x, y in zip(left, right):
        if x == "..." or y == "...":
            return True
        if x is not None and y is not None and x != y:
            return False
    return len(left) == len(right)


def _methods(methods: set[str] | None) -> frozenset[str]:
    return frozenset(methods or ()) - {"HEAD", "OPTIONS"}


def _clash(rule: str, methods: frozenset[str],
           taken: list[tuple[str, frozenset[str], str | None]]) -> Iterator[tuple[str, str | None]]:
    for other, other_methods, owner in taken:
        if methods & other_methods and _overlap(rule, other):
            yield other, owner


def mount(app: Flask, blueprint: Blueprint, plugin: str | None = None) -> None:
    """Register ``blueprint`` on ``app``: admin-only views wrapped with the token check (a
    :class:`PageBlueprint`'s views with its guard),
    its declared routes added to what ``/openapi.json`` describes.

    ``plugin`` names the plugin that supplied the blueprint (None for the host); a plugin's
    rule that overlaps a rule mounted before it, for a method both answer, is a
    :class:`PluginError` naming the plugin, the rule and whose rule it would shadow.
    """
    who = f"plugin {plugin!r}" if plugin else "the host"
    if blueprint.name in app.blueprints:
        raise PluginError(f"{who}: a blueprint named {blueprint.name!r} is already mounted; "
                          f"give the blueprint another name")
    taken = mounted(app)
    before = {id(rule) for rule in app.url_map.iter_rules()}
    app.register_blueprint(blueprint)
    added = [rule for rule in app.url_map.iter_rules() if id(rule) not in before]
    earlier = list(taken.rules)
    for rule in added:
        methods = _methods(rule.methods)
        clash = next(_clash(rule.rule, methods, earlier), None) if plugin is not None else None
        if clash is not None:
            other, owner = clash
            raise PluginError(f"{who}: the route {' '.join(sorted(methods))} {rule.rule} would shadow "
                              f"{other} of {f'plugin {owner!r}' if owner else 'the host'}; "
                              f"mount it under a path of its own")
        taken.rules.append((rule.rule, methods, plugin))
    operations = blueprint.operations if isinstance(blueprint, ApiBlueprint) else []
    declared = {f"{blueprint.name}.{r.endpoint}": r for r in operations}
    for endpoint in {rule.endpoint for rule in added}:
        route = declared.get(endpoint)
        if isinstance(blueprint, PageBlueprint):
            if endpoint.partition(".")[2] not in blueprint.open_views:
                app.view_functions[endpoint] = guarded(app.view_functions[endpoint], blueprint.guard)
        elif route is None or route.admin:
            app.view_functions[endpoint] = admin_only(app.view_functions[endpoint])
    at = {rule.endpoint: rule.rule for rule in added}  # the rule with the blueprint's url_prefix
    taken.routes.extend(replace(r, rule=at[endpoint]) for endpoint, r in declared.items())
