"""Prometheus metrics, rendered with prometheus-client at scrape time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from flask import Flask, Response
from prometheus_client.metrics_core import Metric
from werkzeug.exceptions import HTTPException
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ledgerlink.web.auth import bearer_is
from ledgerlink.web.connections import connection_rows
from ledgerlink.web.responses import error, security_headers

if TYPE_CHECKING:
    from ledgerlink.engine.runtime import Runtime

COUNTERS = {
    "webhooks_received": "Webhook deliveries accepted (signature verified).",
    "events_stored": "Events newly stored in the inbox.",
    "events_duplicate": "Deliveries of events already in the inbox.",
    "events_raised": "Events raised into the inbox by plugins (the host's own events, alerts), new or not.",
    "runs_planned": "Runs planned from stored events.",
    "runs_deduplicated": "Runs not planned because their recipe already had a run for the object the "
                         "event is about (its trigger's occurrence), however that event came.",
    "runs_succeeded": "Runs that succeeded in this process.",
    "runs_failed": "Runs that failed permanently in this process.",
    "runs_skipped": "Runs skipped before their steps in this process: ledgerlink's own echo, or a recipe's "
                    "skip rule (not linked, a conflict with the source of truth).",
    "runs_retried": "Runs rescheduled for a retry in this process.",
    "runs_dead": "Runs given up after the last attempt in this process.",
    "requests_sent": "Requests sent to vendors by this process.",
    "runs_paused": "Runs paused because their connection needs to be connected again.",
    "runs_awaiting_review": "Runs of a recipe with review set to await review in this process, with the "
                            "requests they would send.",
    "runs_shown_again": "Approved runs shown for review again in this process because their requests changed.",
    "token_refreshes": "OAuth access tokens refreshed by this process.",
    "events_fetched": "Notifications whose entity this process fetched before planning runs.",
    "events_gone": "Notifications whose entity no longer existed when fetched.",
    "fetches_failed": "Notifications whose entity could not be fetched after the last attempt.",
    "events_unrouted": "Events for a tenant no configured connection has (stored, not run).",
    "events_ignored": "Events of a type no registered trigger handles (stored, not run).",
    "polls_run": "Polls (cursor-based triggers) this process ran.",
    "polls_failed": "Polls that failed in this process; their cursor stayed.",
    "poll_warnings": "Warnings returned by polls that succeeded in this process (each is logged and kept "
                     "with the poll until a poll without warnings).",
    "polls_paused": "Polls that found their connection's key refused; the poll waits for a new key.",
    "fetches_paused": "Notifications whose fetch waits because their connection's key was refused.",
    "events_unstorable": "Polled events skipped because they cannot be stored (NUL, a surrogate, an id "
                         "too long); each is logged.",
}


class _Collector:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        values = dict(self.runtime.metrics.values)
        for name, help_text in COUNTERS.items():
            family = CounterMetricFamily(f"ledgerlink_{name}", help_text)
            family.add_metric([], values.get(name, 0))
            yield family
        runs = GaugeMetricFamily("ledgerlink_runs", "Runs in the database by status.", labels=["status"])
        try:
            for status, count in sorted(self.runtime.store.counts().items()):
                runs.add_metric([status], count)
        except Exception:
            pass
        yield runs
        fetches = GaugeMetricFamily("ledgerlink_event_fetches",
                                    "Notifications fetched before planning, by state (pending, paused, done, gone, failed).",
                                    labels=["state"])
        try:
            for state, count in sorted(self.runtime.store.fetch_counts().items()):
                fetches.add_metric([state], count)
        except Exception:
            pass
        yield fetches
        try:
            connections = GaugeMetricFamily("ledgerlink_connection_needs_reauth",
                                            "1 when a connection must be connected again (or given a new key); its runs are paused.",
                                            labels=["connection"])
            for row in connection_rows(self.runtime):
                connections.add_metric([row["name"]], 1 if row["status"] in ("needs_reauth", "needs_new_key") else 0)
            yield connections
        except Exception:
            pass
        recipes = GaugeMetricFamily("ledgerlink_recipes_active", "Active recipes.")
        recipes.add_metric([], len(self.runtime.registry.active()))
        yield recipes


def render(runtime: Runtime) -> tuple[bytes, str]:
    """The metrics of ``runtime`` in Prometheus's text format, and its content type."""
    registry = CollectorRegistry()
    registry.register(_Collector(runtime))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def metrics_app(runtime: Runtime) -> Flask:
    """A WSGI app that serves only ``GET /metrics``, without a token: for ``serve
    --metrics-listen``, an address of its own that only the scraper can reach. Bearer
    ``$LEDGERLINK_METRICS_TOKEN`` is still required there when that variable is set."""
    app = Flask("ledgerlink-metrics")
    app.config["LEDGERLINK_METRICS_TOKEN"] = os.environ.get("LEDGERLINK_METRICS_TOKEN", "")
    app.after_request(security_headers)

    @app.get("/metrics")
    def metrics() -> Response:
        if app.config["LEDGERLINK_METRICS_TOKEN"] and not bearer_is("LEDGERLINK_METRICS_TOKEN"):
            return error(401, "unauthorized", "send LEDGERLINK_METRICS_TOKEN as Authorization: Bearer <token>")
        body, content_type = render(runtime)
        return Response(body, status=200, content_type=content_type)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_here(exc: HTTPException) -> Response:
        return error(exc.code, "not_found" if exc.code == 404 else "method_not_allowed",
                     "this address serves only GET /metrics")

    return app
