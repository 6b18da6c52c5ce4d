"""The Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from ledgerlink.engine.runtime import Runtime


def create_app(config: dict[str, Any] | None = None, runtime: Runtime | None = None) -> Flask:
    """A WSGI app over a runtime.

    ``config`` keys: ``db`` (URL), ``recipes`` (directory), ``config`` (ledgerlink.toml),
    ``admin_token`` (default ``$LEDGERLINK_ADMIN_TOKEN``), ``metrics_token`` (default
    ``$LEDGERLINK_METRICS_TOKEN``; ``/metrics`` takes it or the admin token), ``settings`` (a
    :class:`ledgerlink.engine.runtime.Settings`). Pass ``runtime`` to share one with workers.
    """
    from ledgerlink.web.api import bp
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
    app.register_blueprint(bp)
    return app
