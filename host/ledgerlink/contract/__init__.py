"""The connector contract: everything a connector package imports from the host.

A connector is a pluggy plugin (:data:`hookimpl`, the hooks in :mod:`ledgerlink.contract.hookspecs`)
that registers the components of :mod:`~ledgerlink.contract.components`. Its actions are built
from the kit below, so every connector follows the same rules:

- :mod:`~ledgerlink.contract.problems`: reading an input, every problem at once, with JSON pointers;
- :mod:`~ledgerlink.contract.money`: exact money by currency precision, the foreign-currency rule;
- :mod:`~ledgerlink.contract.http`: what an HTTP answer means (give up, retry later, reconnect);
- :mod:`~ledgerlink.contract.writes`: create once (idempotency key, then find_existing), undo,
  links;
- :mod:`~ledgerlink.contract.effects`: effects beyond HTTP: an action yields :class:`Request`,
  :class:`LinkQuery` or a file effect (:class:`WriteFile`, :class:`AppendFile`, :class:`ReadFile`, :class:`ListFolder`, :class:`MoveFile`) and gets back
  :class:`Response` or :class:`FileResult`;
- :mod:`~ledgerlink.contract.mail`: an email, sent by the host over SMTP: an action yields
  :class:`SendMail` and gets back :class:`MailResult`;
- :mod:`~ledgerlink.contract.oauth2`: a connector's OAuth 2.0 flows (:class:`OAuth2`);
- :mod:`~ledgerlink.contract.tenants`: choosing the tenant a consent gave access to;
- :mod:`~ledgerlink.contract.subscriptions`: webhook subscriptions made through the vendor's
  API, and the signing secrets their handshakes teach;
- :mod:`~ledgerlink.contract.events`: raising an event into the inbox from a behaviour hook or
  a plugin's loop (:func:`raise_event`, the :class:`Host` those hooks get);
- :mod:`~ledgerlink.contract.clock`: triggers raised by time passing (:class:`Tick`);
- :mod:`~ledgerlink.contract.reports`: the runs of a window, read by an action
  (:class:`RunsQuery`);
- :mod:`~ledgerlink.contract.deeplinks`: the web address of an entity in the vendor's
  application (:class:`EntityRef`, :func:`url_table`).
"""

from ledgerlink import hookimpl
from ledgerlink.contract.demo import Demo, DemoSource, LookupReference
from ledgerlink.contract.limits import Limits, Remaining
from ledgerlink.contract.components import (Request, LinkQuery, Response, Connection, ActionContext,
                                            IncomingEvent, Webhook, Poll, Page, OAuth2, Connector,
                                            Trigger, Action, Entry, Transform, Sandbox)
from ledgerlink.contract.problems import Problems, begin, date, line_objects, show, text, unknown_keys
from ledgerlink.contract.money import (RECIPE_MONEY, Sign, amount, amount_in, answer_decimal,
                                       currency_code, currency_exponent, exact, exponent,
                                       fit_currency, foreign_currency, is_currency, minor_to_major,
                                       minor_units, minus, plain, total)
from ledgerlink.contract.http import (ErrorReading, Kind, body_excerpt, classify, describe_body,
                                      answered_at, header, retry_after, status_kind, unreadable_query,
                                      unreadable_write)
from ledgerlink.contract.writes import (Built, CreateSteps, Schemas, create_action, find_created,
                                        linked_target, perform_create, read_then_delete)
from ledgerlink.contract.effects import (AppendFile, FileEffect, FileEntry, FileResult, JournalAppend, ListFolder,
                                         MoveFile, ReadFile, WriteFile)
from ledgerlink.contract.mail import CheckMail, MailResult, SendMail
from ledgerlink.contract.reconcile import RECORD_KINDS, Listing, Reconcile, ReconcileQuery, Record
from ledgerlink.contract.tenants import choose_tenant
from ledgerlink.contract.subscriptions import Handshake, Subscription, Subscriptions, signing_secrets
from ledgerlink.contract.events import Host, Raised, Tally, envelope_schema, raise_event
from ledgerlink.contract.clock import Schedule, Tick, event_prefix
from ledgerlink.contract.reports import RunsQuery
from ledgerlink.contract.deeplinks import EntityRef, url_table

__all__ = ["hookimpl", "Demo", "DemoSource", "LookupReference", "Limits", "Remaining", "Request", "LinkQuery", "Response", "Connection", "ActionContext",
           "IncomingEvent", "Webhook", "Poll", "Page", "OAuth2", "Connector", "Trigger", "Action", "Entry", "Transform",
           "Sandbox",
           # problems
           "Problems", "begin", "date", "line_objects", "show", "text", "unknown_keys",
           # money
           "RECIPE_MONEY", "Sign", "amount", "amount_in", "answer_decimal", "currency_code", "currency_exponent",
           "exact", "exponent", "fit_currency", "foreign_currency", "is_currency", "minor_to_major",
           "minor_units", "minus", "plain", "total",
           # http
           "ErrorReading", "Kind", "body_excerpt", "classify", "describe_body", "answered_at", "header",
           "retry_after", "status_kind", "unreadable_query", "unreadable_write",
           # writes
           "Built", "CreateSteps", "Schemas", "create_action", "find_created", "linked_target",
           "perform_create", "read_then_delete",
           # effects and tenants
           "AppendFile", "FileEffect", "FileEntry", "FileResult", "JournalAppend", "ListFolder", "MoveFile", "ReadFile",
           "WriteFile", "CheckMail", "MailResult", "SendMail", "choose_tenant",
           # reconciliation
           "RECORD_KINDS", "Listing", "Reconcile", "ReconcileQuery", "Record",
           # webhook subscriptions
           "Handshake", "Subscription", "Subscriptions", "signing_secrets",
           # host events
           "Host", "Raised", "Tally", "envelope_schema", "raise_event",
           # clock-driven triggers and run reports
           "Schedule", "Tick", "event_prefix", "RunsQuery",
           # deep links
           "EntityRef", "url_table"]
