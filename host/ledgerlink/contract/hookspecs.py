"""The hooks a ledgerlink plugin may implement.

A connector is an ordinary Python package that lists a module under the ``ledgerlink``
entry-point group (``[project.entry-points.ledgerlink] mysystem = "ledgerlink_mysystem"``)
and implements some of these hooks with ``@ledgerlink.hookimpl``. The built-in Stripe and
QuickBooks connectors do exactly that and nothing more.

Every ``ledgerlink_register_*`` hook receives a ``register`` callback owned by the host.
The plugin calls ``register(thing)`` once per thing it supplies. The host type-checks the
thing, validates its schemas and sample, records which plugin supplied it, and refuses a
name that another plugin already registered with an error naming both plugins. Recipes
refer to things by name, so a name is never renamed silently. The behaviour hooks
(``ledgerlink_run_ended``, ``ledgerlink_fetch_ended``, ``ledgerlink_connection_paused``,
``ledgerlink_webhook_rejected``, ``ledgerlink_reconcile_ended``, ``ledgerlink_tick``) are
called by the host when something happened, with what happened.

Every behaviour hook also offers the argument ``host``: the running host of the process
that calls it (a :class:`ledgerlink.contract.events.Host`). An implementation that declares
it can raise an event into the inbox with :func:`ledgerlink.contract.events.raise_event`,
read the host's clock and a table of ``ledgerlink.toml``; one that does not declare it is
called as before.

The hook API only grows by adding: a hook implementation may accept fewer arguments
than its spec lists, so new arguments never break an existing plugin.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ledgerlink")


@hookspec
def ledgerlink_register_connectors(register):
    """Register the external systems this plugin talks to.

    :param register: ``register(connector: ledgerlink.connectors.catalog.Connector) -> None``.
        Call it once per connector. A connector names the system (``"stripe"``), the JSON
        Schema of a connection's settings, which settings are secret, the defaults a
        connection gets when ``ledgerlink.toml`` does not configure one, and, for systems
        that send webhooks, how to verify and parse them.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called; the connectors of all plugins
    are merged into one catalog. Two plugins registering the same connector name is an
    error naming both plugins.

    **Where:** in a connector package's entry-point module.

    **Since:** 0.1.0
    """


@hookspec
def ledgerlink_register_triggers(register):
    """Register the events that can start a recipe.

    :param register: ``register(trigger: ledgerlink.connectors.catalog.Trigger) -> None``.
        A trigger has a dotted name whose first part is its connector
        (``"stripe.invoice.paid"``), a summary, the JSON Schema of its event, a sample event
        that validates against that schema, and a status (``"stable"`` or ``"beta"``).

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called; all triggers are merged into
    one catalog. A duplicate trigger name is an error naming both plugins. A trigger whose
    connector is not registered by any plugin is an error.

    **Where:** in a connector package's entry-point module.

    **Since:** 0.1.0
    """


@hookspec
def ledgerlink_register_actions(register):
    """Register the things a recipe step can do in an external system.

    :param register: ``register(action: ledgerlink.connectors.catalog.Action) -> None``.
        An action has a dotted name whose first part is its connector
        (``"quickbooks.create_journal_entry"``), a summary, JSON Schemas of its input and
        output, a sample input, a sample vendor response, a status, and ``perform``: a
        generator that never does I/O itself. It yields
        :class:`ledgerlink.connectors.catalog.Request` objects, receives a
        :class:`ledgerlink.connectors.catalog.Response` for each, and returns the step's output.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called; all actions are merged into
    one catalog. A duplicate action name is an error naming both plugins.

    **Where:** in a connector package's entry-point module.

    **Since:** 0.1.0
    """


@hookspec
def ledgerlink_register_transforms(register):
    """Register value transforms that recipes use with ``"$as": "<name>"``.

    :param register: ``register(transform: ledgerlink.connectors.catalog.Transform) -> None``.
        A transform has a name (plugins prefix it with their connector, e.g.
        ``"stripe.money"``), a summary, the JSON Schema of its parameters, and
        ``apply(value, params) -> value``, which raises
        :class:`ledgerlink.errors.TransformError` when it cannot convert the value.
        It must be a pure function: no I/O, no ``eval``.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called, the host's own transforms
    (``money``, ``date``, ``datetime``, ``upper``, ``lower``, ``string``, ``integer``,
    ``decimal``, ``round``) first. A duplicate transform name is an error naming both plugins.

    **Where:** in a connector package's entry-point module.

    **Since:** 0.1.0
    """


@hookspec
def ledgerlink_register_routes(register):
    """Add HTTP routes to the server that ``ledgerlink serve`` runs (a web console, say).

    :param register: ``register(blueprint: flask.Blueprint) -> None``. Call it once per
        blueprint. The host mounts it on the app of :func:`ledgerlink.web.app.create_app`
        with the rules (and ``url_prefix``) the blueprint gives. Views declared with
        :meth:`ledgerlink.web.routes.ApiBlueprint.operation` are described in
        ``/openapi.json`` and need the admin token unless declared ``admin=False``; every
        other view of the blueprint needs the admin token, except those of a
        :class:`ledgerlink.web.routes.PageBlueprint` (pages for a browser, signed in with a
        cookie): they are guarded by its ``guard`` and read and act on the host through
        :func:`ledgerlink.web.operator.operator`. Every answer gets the host's
        security headers, and every error (an exception the view raises, a 404 or 405)
        the one JSON error shape.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called when an app is created, after
    the host's own routes are mounted. A rule that would answer a URL and method a host
    route (or an earlier plugin's) answers, or a blueprint name already mounted, is a
    :class:`ledgerlink.errors.PluginError` naming the plugin: a plugin adds routes, it never
    replaces one.

    **When:** each time an app is created (``ledgerlink serve``, and tests), before it
    answers its first request; the blueprint's views are then called per request, in the
    server's threads.

    **Where:** in a plugin package's entry-point module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_register_commands(register):
    """Add subcommands to the ``ledgerlink`` command.

    :param register: ``register(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
        run: Callable[[argparse.Namespace], int]) -> None``. Call it once per subcommand.
        ``configure`` adds the subcommand's arguments to its parser; ``run`` does the work and
        returns the exit status. A :class:`ledgerlink.errors.LedgerlinkError` it raises is
        printed as ``error: <message>`` with exit status 1, as for the built-in commands.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called when the command line is
    parsed; the subcommands are listed after the built-in ones. A name that a built-in
    command or an earlier plugin already has is a :class:`ledgerlink.errors.PluginError`
    naming the plugin.

    **When:** each time the command line is parsed, before any subcommand runs; ``run`` is
    called only when its subcommand is the one given.

    **Where:** in a plugin package's entry-point module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_register_sandboxes(register):
    """Register loopback imitations of vendor APIs, for tests, demos and integrators.

    :param register: ``register(sandbox: ledgerlink.contract.Sandbox) -> None``. Call it once
        per sandbox. A sandbox names the connector it stands in for (``"quickbooks"``), a
        summary, ``factory(**options)`` returning a WSGI app that answers as the vendor does
        (a bad option value raises ``ValueError``), and ``options``: the keyword options the
        factory takes, each with a line saying what it does.

    **Returns:** nothing; the return value is ignored.

    **When:** whenever the catalog is built; the factory itself is called only by
    ``ledgerlink sandbox NAME`` (with the ``--set`` options), by ``ledgerlink demo`` (with
    none) and by tests, each time they start a sandbox.

    **How results combine:** every implementation is called; all sandboxes are merged into
    one catalog. Two plugins registering a sandbox for the same connector is an error
    naming both plugins. The connector need not be installed.

    **Where:** in a sandbox package's entry-point module, never in the connector's own
    package: the code under test and the imitation it is tested against must not share
    code, or they can agree on the same mistake (``ledgerlink-sandboxes`` holds the
    built-in ones).

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_run_ended(run, outcome, error, host):
    """A run's attempt ended and its outcome is stored (alerts use this).

    :param run: the :class:`ledgerlink.store.ClaimedRun` as the worker claimed it: ``id``,
        ``recipe_id``, ``recipe_version``, ``connection`` (where its event came from),
        ``event_id``, ``trigger``, ``attempts`` (this attempt's number).
    :param outcome: the run's status now: ``"succeeded"``, ``"failed"`` (for good; the run
        can be replayed), ``"dead"`` (it gave up after the last attempt), ``"retrying"`` (a
        later attempt is due), ``"paused"`` (a connection must be connected again) or
        ``"awaiting_review"`` (a recipe with ``"review": true``: the run waits for a person
        to approve or reject the requests it would send; nothing was sent).
    :param error: the error stored with the run (None when it succeeded); for
        ``"awaiting_review"``, why an approved run is shown again (None the first time).
        A person rejecting a run ends no attempt: the hook is not called, and the run's
        status is ``"rejected"``.
    :param host: the running host (:class:`ledgerlink.contract.events.Host`); since 0.2.0.

    **When:** in the worker thread, after the outcome is committed; never for a dry run,
    and not when the run's lease was lost (the worker that took it over reports it).

    **Returns:** nothing; the return value is ignored.

    **How results combine:** every implementation is called, each in turn. An exception
    in one is logged with its plugin's name and never changes the run's outcome; the
    others are still called. Keep it quick: the worker waits for it.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_fetch_ended(fetch, outcome, error, host):
    """Fetching a notification's entity ended and its outcome is stored.

    A trigger that carries ids only (``fetch``) stores the notification; a worker then
    fetches the entity and plans its runs.

    :param fetch: the :class:`ledgerlink.store.ClaimedFetch`: ``id``, ``connection``,
        ``event_id``, ``trigger``, ``attempts``.
    :param outcome: ``"done"`` (the entity is stored and its runs are planned), ``"gone"``
        (the source no longer has it; nothing runs), ``"retrying"``, ``"paused"`` (the
        vendor refused the connection's key: fetched again once ``ledgerlink connect``
        accepts a new one) or ``"failed"`` (for good; no run is planned).
    :param error: the error stored with it (None when done or gone).
    :param host: the running host (:class:`ledgerlink.contract.events.Host`); since 0.2.0.

    **When:** in the worker thread, after the outcome is committed; not when the fetch's
    lease was lost.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** as :func:`ledgerlink_run_ended`: every implementation is
    called; an exception in one is logged and changes nothing.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_connection_paused(connection, reason, host):
    """A connection must be connected again: the vendor refused its tokens or its key, and
    the work waiting for it is parked until ``ledgerlink connect NAME`` succeeds.

    :param connection: the connection's name.
    :param reason: why, in words (never a secret).
    :param host: the running host (:class:`ledgerlink.contract.events.Host`).

    **When:** in the worker thread, each time a run or a fetch is parked on the connection
    (so once per waiting run: an implementation that alerts deduplicates, e.g. with an event
    id built from the connection and a time window).

    **Returns:** nothing. **How results combine:** as :func:`ledgerlink_run_ended`.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_webhook_rejected(connection, reason, at, host):
    """A delivery to ``/webhooks/<connection>`` was refused: its signature did not verify
    (answered 401) or its body could not be used (400). Nothing of it was stored.

    :param connection: the connection named in the URL (a configured one).
    :param reason: the refusal as answered (never the body or a secret).
    :param at: when, in Unix seconds on the host's clock.
    :param host: the running host (:class:`ledgerlink.contract.events.Host`).

    **When:** in the server's request thread, before the refusal is answered; keep it quick.

    **Returns:** nothing. **How results combine:** as :func:`ledgerlink_run_ended`.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_reconcile_ended(report_summary, host):
    """A reconciliation ended and its report is complete.

    :param report_summary: a JSON-ready mapping: at least ``connection`` (the ledger
        connection reconciled), ``since`` and ``until`` (YYYY-MM-DD), ``discrepancies``
        (how many; 0 when both sides agree), ``by_kind`` (the count per kind of
        discrepancy) and ``ledgers`` (every ledger the same reconciliation compared, this
        one included: its ``by_kind``).
    :param host: the running host (:class:`ledgerlink.contract.events.Host`).

    **When:** in the process that reconciled (the command, a server request or a worker),
    after the report is built.

    **Returns:** nothing. **How results combine:** as :func:`ledgerlink_run_ended`.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """


@hookspec
def ledgerlink_tick(now, host):
    """A plugin's own upkeep: called by every worker about once a second (between runs).

    For work of the plugin's rather than of one recipe: it is called whatever recipes exist,
    may read and change what the host keeps (its tallies) and raise events with
    :func:`ledgerlink.contract.events.raise_event`, which plan a run of every recipe on the
    event's trigger (the host events plugin settles its alert windows here). A recipe that
    starts on the clock is a ticking trigger instead (:attr:`ledgerlink.contract.Trigger.tick`,
    :mod:`ledgerlink.contract.clock`): the host asks it per enabled recipe, remembers its last
    event, and plans that recipe alone.

    :param now: the host's clock, Unix seconds (the clock ticking triggers are asked by).
    :param host: the running host (:class:`ledgerlink.contract.events.Host`).

    **When:** in each worker thread of every process (``serve`` and ``worker``), between
    runs, about once a second. What it does must be safe to do twice: an event raised with an
    id built from what it is about is stored once however many call. Keep it quick: the
    worker waits for it.

    **Returns:** nothing. **How results combine:** as :func:`ledgerlink_run_ended`.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """
