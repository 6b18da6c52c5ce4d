"""What ``ledgerlink demo`` asks of a connector: one that keeps the books, one that makes activity.

The demo starts the loopback sandbox of every connector that keeps the books — one that
declares :class:`Demo` (``Connector.demo``) and has a registered sandbox — configures a
connection to each, sends the source connectors' example webhooks and prints what reached
the ledger. :class:`Demo` says what the host needs to know of the vendor: the settings a connection needs against that
sandbox, what the table calls the entity a run booked, and how much a refused input was to
book.

Then, when a source connector declares :class:`DemoSource` (``Connector.demo_source``) and a
ledger connector fills in :attr:`Demo.prepare` and :attr:`Demo.balances`, the demo books a
simulated day: the source's sandbox makes a day of activity and sends its events as signed
webhooks to ``ledgerlink serve`` running the booking recipes (each settlement currency's
clearing account and bank account named in their ``clearing`` and ``bank`` lookup tables,
keyed by currency), and a table compares the source's balance, the clearing account and the
bank, per currency. Each hook is a read or write generator like an action's: it yields
:class:`~ledgerlink.contract.components.Request` objects that the host sends on the
connection and returns its answer, so a hook never performs I/O itself.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # components names Demo; these only annotate the hooks
    from ledgerlink.contract.components import Connection, Request, Response

#: ``(amount, currency)``: money in major units, its ISO 4217 code upper case
Money = tuple[Decimal, str]


@dataclass(frozen=True)
class LookupReference:
    """An object a booking recipe names through a lookup row, ``lookups[table][key]``."""

    #: what the action's input schema says the field refers to (``Account``, ``Item`` …)
    entity: str
    table: str
    key: str
    #: the row as the recipe holds it: an id, or an object with the id in ``value`` and what
    #: the recipe declares about the object beside it (``name``, an account's type …)
    reference: Any


@dataclass(frozen=True)
class Demo:
    """A connector's part in ``ledgerlink demo``: the ledger the runs book into."""

    #: the settings a connection needs against the connector's own loopback sandbox, besides
    #: ``address_setting`` (the demo fills in the sandbox's address). A secret one (named in
    #: ``Connector.secret_settings``) reaches the connection as an ``${ENV}`` reference, never
    #: written into the configuration file
    settings: Mapping[str, str] = field(default_factory=dict)
    #: the setting that holds the vendor's API address
    address_setting: str = "base_url"
    #: the title of the table's column that shows the id of what a run booked
    entry_title: str = "entry"
    #: ``amount(input) -> (total, currency)``: what an action's mapped input was to book,
    #: shown for a run refused before anything was sent; None when the input says neither
    amount: Callable[[Mapping[str, Any]], Money | None] | None = None
    #: ``prepare(connection, references) -> {(table, key): id}``: what an integrator does
    #: before the first run, on the sandbox company: find each object the booking recipes
    #: name through their lookups (:class:`LookupReference`), create the ones the company
    #: lacks (a clearing account, a fees account …), and return the company's id for each
    #: lookup row it resolved (the demo points the recipes' lookups at them)
    prepare: Callable[[Connection, Sequence[LookupReference]],
                      Generator[Request, Response, Mapping[tuple[str, str], str]]] | None = None
    #: ``balances(connection, accounts) -> {label: (balance, currency)}``: the balance of each
    #: account, in the account's own currency; ``accounts`` maps a label to the account's
    #: reference as a recipe's lookup table holds it
    balances: Callable[[Connection, Mapping[str, Any]],
                       Generator[Request, Response, dict[str, Money]]] | None = None


@dataclass(frozen=True)
class DemoSource:
    """A source connector's part in ``ledgerlink demo``: a simulated day on its sandbox."""

    #: the settings a connection needs against the connector's loopback sandbox (an API key
    #: it accepts, say), besides ``address_setting``; secrets as in :attr:`Demo.settings`
    settings: Mapping[str, str] = field(default_factory=dict)
    #: the setting that holds the vendor's API address
    address_setting: str = "base_url"
    #: ``sandbox_options(webhook_url, webhook_secret) -> options``: the sandbox factory's
    #: options that make it send every event, signed with ``webhook_secret``, to ``webhook_url``
    sandbox_options: Callable[[str, str], Mapping[str, Any]] | None = None
    #: ``simulate(connection, days) -> {what: count}``: start ``days`` of simulated activity on
    #: the sandbox (payments, fees, refunds, payouts …); returns what it made, by kind
    simulate: Callable[[Connection, int], Generator[Request, Response, Mapping[str, int]]] | None = None
    #: ``pending(connection) -> n``: how many events the sandbox has not yet had acknowledged
    pending: Callable[[Connection], Generator[Request, Response, int]] | None = None
    #: ``balance(connection) -> {currency: (amount, currency)}``: the source's balance per
    #: currency, everything it holds (available or not), keyed by lowercase currency
    balance: Callable[[Connection], Generator[Request, Response, dict[str, Money]]] | None = None
