"""``ledgerlink demo``, second part: a simulated day booked through a clearing account, and the
table that shows the books tie out.

A source connector with :class:`~ledgerlink.contract.DemoSource` makes a day of activity on
its loopback sandbox (payments in several currencies with their fees, refunds, the day's
payout) and sends every event, signed, to ``ledgerlink serve`` running the booking recipes of
``mode-1-clearing`` (beside the example recipes): per transaction, through a clearing account
per settlement currency. Before serve starts, the ledger connector's :attr:`Demo.prepare
<ledgerlink.contract.Demo.prepare>` does what an integrator does in a new company: it finds or
creates every account the recipes' lookups name, and the recipes are pointed at them. Once
every event is acknowledged and every run has ended, a table per settlement currency compares
the source's balance, the clearing account (the recipes' ``clearing`` lookup row of that
currency), the bank account (their ``bank`` row) and the difference between the first two,
which must be zero: after the payout the clearing account holds exactly what the source still
holds. Everything runs on loopback, on its own database and sandboxes.
"""

from __future__ import annotations

import os
import secrets as pysecrets
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa

from ledgerlink import jsonio, store as store_module
from ledgerlink.cli.demo_serve import free_port, start_serve, toml_value, wait_until
from ledgerlink.contract import Connector, LookupReference
from ledgerlink.contract.money import currency_exponent
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.preflight import declared_references
from ledgerlink.engine.runner import drive
from ledgerlink.engine.runtime import Runtime
from ledgerlink.store import Store
from ledgerlink.store.schema import runs as runs_table
from ledgerlink.web.servers import background

#: the folder of booking recipes, beside the example recipes, that the day is booked by
BOOKS_FOLDER = "mode-1-clearing"
#: the lookup tables, keyed by currency, that name each currency's clearing and bank account
CLEARING, BANK = "clearing", "bank"


def books_folder(recipes: Path) -> Path | None:
    """``recipes/mode-1-clearing`` when it holds recipes, else None."""
    folder = recipes / BOOKS_FOLDER
    return folder if folder.is_dir() and any(folder.glob("*.json")) else None


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment for the block: the configuration's
    ``${ENV}`` secrets, read when this process sends to a sandbox."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _connection_lines(connector: Connector, url: str, address: str, settings: Mapping[str, str],
                      secrets: dict[str, str]) -> list[str]:
    """``[connections.NAME]`` for ``connector`` on its sandbox at ``url``; a secret setting
    goes into ``secrets`` (the environment) and the file holds its ``${ENV}`` reference."""
    lines = [f"[connections.{connector.name}]", f'connector = "{connector.name}"', f'{address} = "{url}"']
    for key, value in settings.items():
        if key in connector.secret_settings:
            env_name = f"LEDGERLINK_DEMO_BOOKS_{connector.name}_{key}".upper()
            secrets[env_name] = value
            value = f"${{{env_name}}}"
        lines.append(f"{key} = {toml_value(value)}")
    return lines


def _connections(folder: Path) -> set[str]:
    """The connections the recipes of ``folder`` name (each named after its connector here)."""
    names: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        try:
            recipe = jsonio.loads(path.read_bytes())
        except (OSError, ValueError):
            continue  # the runtime's loading names what is wrong with it
        for item in [recipe.get("trigger", {}), *recipe.get("steps", [])] if isinstance(recipe, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("connection"), str):
                names.add(item["connection"])
    return names


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def point_recipes(runtime: Runtime, target: Path) -> dict[str, dict[str, Any]]:
    """The runtime's recipes written into ``target``, each lookup row that names an object of
    a ledger connector pointed at the object ``Demo.prepare`` found or created; returns the
    ``clearing`` and ``bank`` rows (currency -> reference) of the recipes so pointed."""
    target.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {CLEARING: {}, BANK: {}}
    for recipe in sorted(runtime.registry.active().values(), key=lambda r: r.id):
        wanted: dict[str, list[LookupReference]] = {}
        for index, step in enumerate(recipe.steps if recipe.enabled else []):  # a disabled one starts nothing
            template = recipe.raw["steps"][index].get("input", {})
            schema = step.action.input_schema
            for entity, _, where, _ in declared_references(template, schema, schema, recipe.lookups, "/input"):
                parts = [_unescape(p) for p in where.split("/")[1:]]
                if len(parts) == 3 and parts[0] == "lookups":
                    ref = LookupReference(entity, parts[1], parts[2], recipe.lookups[parts[1]][parts[2]])
                    wanted.setdefault(step.connection, []).append(ref)
        raw = jsonio.loads(jsonio.dumps(recipe.raw))
        raw.pop("$schema", None)  # relative to the recipe's own folder
        for connection_name, references in wanted.items():
            connection = runtime.connections.connection(connection_name)
            demo = runtime.catalog.connectors[connection.connector].demo
            if demo is None or demo.prepare is None:
                continue
            ids = drive(demo.prepare(connection, references), runtime.connections.sender(connection_name))
            for (table, key), ident in (ids or {}).items():
                row = raw["lookups"][table][key]
                raw["lookups"][table][key] = {**row, "value": ident} if isinstance(row, dict) else ident
        for table in rows:
            for currency, ref in raw.get("lookups", {}).get(table, {}).items():
                rows[table].setdefault(currency.lower(), ref)
        (target / Path(recipe.file).name).write_text(jsonio.dumps(raw, indent=2), encoding="utf-8")
    return rows


def _money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    return f"{amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)))}"


def _settled(store: Store) -> bool:
    fetches, counts = store.fetch_counts(), store.counts()
    return (not fetches.get("pending") and sum(counts.values()) > 0
            and not any(counts.get(s) for s in ("pending", "running", "retrying")))


def run_books(catalog: Any, folder: Path, directory: Path, out: Callable[[str], None] = print,
              timeout: float = 90.0) -> list[dict[str, Any]]:
    """A simulated day booked by the recipes of ``folder``; returns one row per currency
    (also printed as a table): ``currency``, ``source``, ``clearing``, ``bank``,
    ``difference`` (source − clearing; None when either is missing). Nothing when no
    connector offers a simulated day or none keeps the books with ``prepare``/``balances``."""
    named = _connections(folder)
    sources = [c for c in catalog.connectors.values() if c.demo_source and c.demo_source.simulate
               and c.demo_source.sandbox_options and c.name in catalog.sandboxes and c.name in named]
    ledgers = [c for c in catalog.connectors.values() if c.demo and c.demo.prepare and c.demo.balances
               and c.name in catalog.sandboxes and c.name in named]
    if not sources or not ledgers:
        out(f"(the books part is skipped: the recipes of {folder} name no installed connector that offers a "
            f"simulated day on its sandbox, or none that keeps the books on one)")
        return []
    source, ledger = sources[0], ledgers[0]
    demo, books_demo = source.demo_source, ledger.demo
    if demo is None or demo.simulate is None or demo.sandbox_options is None or books_demo is None \
            or books_demo.balances is None:  # never: selected so above
        return []
    directory.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{directory / 'ledgerlink.db'}"
    secrets = {"LEDGERLINK_ADMIN_TOKEN": pysecrets.token_urlsafe(24)}
    whsec = "whsec_demo_" + pysecrets.token_hex(16)
    port = free_port()
    lines: list[str] = []

    with ExitStack() as stack:
        server = stack.enter_context(background(catalog.sandboxes[ledger.name].factory()))
        lines += _connection_lines(ledger, server.url, books_demo.address_setting, books_demo.settings,
                                   secrets) + [""]
        hook = f"http://127.0.0.1:{port}/webhooks/{source.name}"
        server = stack.enter_context(background(catalog.sandboxes[source.name].factory(
            **demo.sandbox_options(hook, whsec))))
        lines += _connection_lines(source, server.url, demo.address_setting,
                                   {**demo.settings, "webhook_secret": whsec}, secrets) + [""]
        config = directory / "ledgerlink.toml"
        config.write_text("\n".join(lines))
        # what this process sends (to prepare the company, start the day, read balances) goes
        # through a runtime of its own: its registry holds the recipes before they are pointed
        setup_db = f"sqlite:///{directory / 'setup.db'}"
        for url in (db, setup_db):
            store_module.upgrade(url)
        stack.enter_context(_environment(secrets))
        runtime = build_runtime(db=setup_db, recipes=folder, config_file=str(config))
        stack.callback(runtime.close)
        rows = point_recipes(runtime, directory / "recipes")
        store = Store(db)
        stack.callback(store.engine.dispose)
        start_serve(stack, directory, db, str(directory / "recipes"), config, {**os.environ, **secrets}, port)
        out(f"{source.name} sandbox on {server.url}: a simulated day, booked by the recipes of "
            f"{folder.name}/ through ledgerlink serve on 127.0.0.1:{port}")

        connection = runtime.connections.connection(source.name)
        send = runtime.connections.sender(source.name)
        made = drive(demo.simulate(connection, 1), send)
        if demo.pending is not None:
            pending = demo.pending
            wait_until(lambda: drive(pending(connection), send) == 0, timeout, "every event to be acknowledged")
        wait_until(lambda: _settled(store), timeout, "the runs to finish")

        with store.engine.connect() as conn:
            runs = [dict(r._mapping) for r in conn.execute(sa.select(runs_table.c.recipe_id, runs_table.c.status,
                                                                     runs_table.c.last_error))]
        held = drive(demo.balance(connection), send) if demo.balance else {}
        accounts = {f"{table} {currency}": ref for table in (CLEARING, BANK) for currency, ref in rows[table].items()}
        books = drive(books_demo.balances(runtime.connections.connection(ledger.name), accounts),
                      runtime.connections.sender(ledger.name)) if accounts else {}

    table = []
    for currency in sorted(set(held) | set(rows[CLEARING])):
        balance = held.get(currency, (None, currency.upper()))[0]
        clearing = books.get(f"{CLEARING} {currency}", (None, ""))[0]
        bank = books.get(f"{BANK} {currency}", (None, ""))[0]
        difference = None if balance is None or clearing is None else balance - clearing
        table.append({"currency": currency.upper(), "source": balance, "clearing": clearing, "bank": bank,
                      "difference": difference})
    _print_books(source.name, made, runs, table, out)
    return table


def _print_books(source: str, made: Mapping[str, int], runs: list[dict[str, Any]], table: list[dict[str, Any]],
                 out: Callable[[str], None]) -> None:
    title = source[:1].upper() + source[1:]
    out("")
    out(f"A day at {title}: " + ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in made.items()))
    for (recipe, status), count in sorted(Counter((r["recipe_id"], r["status"]) for r in runs).items()):
        out(f"  {count:>3} {status:<9} {recipe}")
    failed = [r for r in runs if r["status"] != "succeeded"]
    if failed:
        out(f"  first failure: {failed[0]['last_error']}")
    columns = [("currency", "currency"), ("source", f"{title} balance"), ("clearing", "clearing account"),
               ("bank", "bank"), ("difference", "difference")]
    cells = [{key: row[key] if key == "currency" else _money(row[key], row["currency"]) for key, _ in columns}
             for row in table]
    widths = {key: max(len(name), *(len(c[key]) for c in cells)) for key, name in columns}
    out("")
    out("  ".join(name.rjust(widths[key]) for key, name in columns))
    out("  ".join("-" * widths[key] for key, _ in columns))
    for c in cells:
        out("  ".join(c[key].rjust(widths[key]) for key, _ in columns))
    out("")
    if all(row["difference"] == 0 for row in table) and table and not failed:
        out(f"The books tie out: after the payout each clearing account holds exactly the {title} balance "
            f"of its currency, and the bank holds what was paid out.")
    else:
        out(f"The books do NOT tie out: a clearing account differs from the {title} balance (or a run failed).")


def tied_out(table: list[dict[str, Any]]) -> bool:
    """Whether every currency's clearing account equals the source's balance."""
    return all(row["difference"] == 0 for row in table)


__all__ = ["BOOKS_FOLDER", "books_folder", "point_recipes", "run_books", "tied_out"]
