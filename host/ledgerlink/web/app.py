"""The Flask application factory: the host's views, then the routes plugins add."""

from __future__ import annotations

import os
from typing import Any

import pluggy
from flask import Blueprint, Flask

from ledgerlink.connectors.manager import build_plugin_manager, call_registrations
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import PluginError
from ledgerlink.web import connections, console_data, export, recipes, reconcile, responses, runs, schedules, system
from ledgerlink.web.routes import ApiBlueprint, Route, mount
from ledgerlink.web.webhooks import install as install_webhook_path

#: the host's views, in the order ``/openapi.json`` lists them
HOST_APIS: tuple[ApiBlueprint, ...] = (connections.api, recipes.api, runs.api, export.api, reconcile.api,
                                       schedules.api, system.api, console_data.api)


def host_routes() -> list[Route]:
    """Every view the host itself declares (what ``/openapi.json`` describes without plugins)."""
    return [route for api in HOST_APIS for route in api.operations]


def plugin_blueprints(plugins: pluggy.PluginManager) -> list[tuple[str, Blueprint]]:
    """``(plugin name, blueprint)`` for every blueprint the plugins register, in order."""
    found: list[tuple[str, Blueprint]] = []

    def registrar(plugin: str):
        def register(blueprint: Blueprint) -> None:
            if not isinstance(blueprint, Blueprint):
                raise PluginError(f"plugin {plugin!r}: ledgerlink_register_routes must register a "
                                  f"flask.Blueprint, not {type(blueprint).__name__}")
            found.append((plugin, blueprint))
        return register

    call_registrations(plugins, "ledgerlink_register_routes", registrar)
    return found


def create_app(config: dict[str, Any] | None = None, runtime: Runtime | None = None,
               plugins: pluggy.PluginManager | None = None) -> Flask:
    """A WSGI app over a runtime.

    ``config`` keys: ``db`` (URL), ``recipes`` (directory), ``config`` (ledgerlink.toml),
    ``admin_token`` (default ``$LEDGERLINK_ADMIN_TOKEN``), ``metrics_token`` (default
    ``$LEDGERLINK_METRICS_TOKEN``; ``/metrics`` takes it or the admin token), ``settings`` (a
    :class:`ledgerlink.engine.runtime.Settings`). Pass ``runtime`` to share one with workers.
    ``plugins`` is the plugin manager whose ``ledgerlink_register_routes`` hooks add routes
    (default: every installed plugin, as :func:`~ledgerlink.connectors.manager.build_plugin_manager`
    finds them).
    """
    from ledgerlink.engine.operations import build_runtime

    config = dict(config or {})
    if runtime is None:
        runtime = build_runtime(db=config.get("db"), recipes=config.get("recipes"),
                                config_file=config.get("config"), settings=config.get("settings"))
    app = Flask("ledgerlink")
    app.config["LEDGERLINK_RUNTIME"] = runtime
    app.config["LEDGERLINK_ADMIN_TOKEN"] = config.get("admin_token", os.environ.get("LEDGERLINK_ADMIN_TOKEN", ""))
    app.config["LEDGERLINK_METRICS_TOKEN"] = config.get("metrics_token",
                                                        os.environ.get("LEDGERLINK_METRICS_TOKEN", ""))
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.max_body_bytes * 2
    app.json.sort_keys = False
    responses.install(app)
    for api in HOST_APIS:
        mount(app, api)
    for plugin, blueprint in plugin_blueprints(plugins or build_plugin_manager()):
        mount(app, blueprint, plugin)
    # webhook deliveries answered without building Flask's request and response objects
    install_webhook_path(app)
    return app
