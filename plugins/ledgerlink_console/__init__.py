"""The web console of ledgerlink: what synced, what failed and why, fixed with a click.

Served by ``ledgerlink serve`` under ``/console/`` through the kit's route hook, as a
:class:`~ledgerlink.web.routes.PageBlueprint`: server-rendered pages (Flask, Jinja), forms
that work without JavaScript, every asset served by ledgerlink itself (no CDN), reading and
acting on the host through :func:`ledgerlink.web.operator.operator` only.

- :mod:`.session`: sign in with the admin token, the session cookie, CSRF, security headers;
- :mod:`.render`: templates, dates in the operator's time zone, amounts, redaction;
- :mod:`.blueprint`: the blueprint, login and logout;
- :mod:`.synclog`: the sync log (the home page): filters, counts per status, keyset pages;
- :mod:`.rundetail`: one run's steps, and replay, undo, approve, reject behind a confirmation;
- :mod:`.review`: the review queue: what each run would send, approved or rejected many at once;
- :mod:`.recipes`: the recipes, their versions and diffs, checked, uploaded and reloaded
  (:mod:`.recipe_text` marks a problem's lines and a diff's);
- :mod:`.trial`: the trial sync: a recipe dry-run on a sample, pasted or stored event, then sent for real;
- :mod:`.connections`: each connection's state, what waits for it, Connect (OAuth) and resume;
- :mod:`.reconciliation`: the latest reconciliation of each ledger, and one run now;
- :mod:`.health`: runs per hour by status (a chart and a table), refused deliveries, the queue;
- :mod:`.users`: the users of ``[console.users]``, their scrypt password hashes;
- :mod:`.commands`: ``ledgerlink console hash-password NAME``.
"""

from __future__ import annotations

from importlib import import_module

from ledgerlink import hookimpl
from ledgerlink_console.commands import ledgerlink_register_commands

__all__ = ["VIEWS", "ledgerlink_register_commands", "ledgerlink_register_routes"]

#: the modules whose views join the blueprint when they are imported
VIEWS = ("synclog", "rundetail", "review", "recipes", "trial", "connections", "reconciliation", "health")


@hookimpl
def ledgerlink_register_routes(register):
    """The console's blueprint, with every page's views (imported here, when an app is made:
    a worker process, which serves no page, never loads them, nor Jinja's templates)."""
    from ledgerlink_console.blueprint import console

    for name in VIEWS:
        import_module(f"{__name__}.{name}")

    register(console)
