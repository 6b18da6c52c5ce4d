"""The hooks a ledgerlink plugin may implement.

A connector is an ordinary Python package that lists a module under the ``ledgerlink``
entry-point group (``[project.entry-points.ledgerlink] mysystem = "ledgerlink_mysystem"``)
and implements some of these hooks with ``@ledgerlink.hookimpl``. The built-in Stripe and
QuickBooks connectors do exactly that and nothing more.

Every hook receives a ``register`` callback owned by the host. The plugin calls
``register(thing)`` once per thing it supplies. The host type-checks the thing, validates
its schemas and sample, records which plugin supplied it, and refuses a name that another
plugin already registered with an error naming both plugins. Recipes refer to things by
name, so a name is never renamed silently.

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
def ledgerlink_run_ended(run, outcome, error):
    """A run's attempt ended and its outcome is stored (alerts use this).

    :param run: the :class:`ledgerlink.store.ClaimedRun` as the worker claimed it: ``id``,
        ``recipe_id``, ``recipe_version``, ``connection`` (where its event came from),
        ``event_id``, ``trigger``, ``attempts`` (this attempt's number).
    :param outcome: the run's status now: ``"succeeded"``, ``"failed"`` (for good; the run
        can be replayed), ``"dead"`` (it gave up after the last attempt), ``"retrying"`` (a
        later attempt is due) or ``"paused"`` (a connection must be connected again).
    :param error: the error stored with the run (None when it succeeded).

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
def ledgerlink_fetch_ended(fetch, outcome, error):
    """Fetching a notification's entity ended and its outcome is stored.

    A trigger that carries ids only (``fetch``) stores the notification; a worker then
    fetches the entity and plans its runs.

    :param fetch: the :class:`ledgerlink.store.ClaimedFetch`: ``id``, ``connection``,
        ``event_id``, ``trigger``, ``attempts``.
    :param outcome: ``"done"`` (the entity is stored and its runs are planned), ``"gone"``
        (the source no longer has it; nothing runs), ``"retrying"`` or ``"failed"`` (for
        good; no run is planned).
    :param error: the error stored with it (None when done or gone).

    **When:** in the worker thread, after the outcome is committed; not when the fetch's
    lease was lost.

    **Returns:** nothing; the return value is ignored.

    **How results combine:** as :func:`ledgerlink_run_ended`: every implementation is
    called; an exception in one is logged and changes nothing.

    **Where:** in any plugin module.

    **Since:** 0.2.0
    """
