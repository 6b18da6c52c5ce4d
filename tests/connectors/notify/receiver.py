"""A webhook receiver on loopback for notify.webhook's tests: it keeps every POST (headers
and the exact body) and answers with the statuses it is told, 200 once they run out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask, request


@dataclass
class Inbox:
    """What the receiver was sent, and what it is to answer next."""

    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_app() -> Flask:
    app = Flask("notify_receiver")
    app.sandbox = inbox = Inbox()

    @app.post("/hooks/<path:rest>")
    def receive(rest):
        with inbox.lock:
            inbox.posts.append((dict(request.headers), request.get_data()))
            status, headers = inbox.answers.pop(0) if inbox.answers else (200, {})
        return app.response_class("ok" if status < 400 else "no", status, headers, content_type="text/plain")

    return app
