"""``ledgerlink demo``: the whole path on one machine, in about ten seconds.

Starts every connector's loopback sandbox, runs ``ledgerlink serve`` as a separate process
on a temporary SQLite database, sends each source connector's example webhooks (signed as
the vendor signs them), waits for the runs, and prints what reached the ledger. Each
connector with a sandbox says how (``Connector.demo``, :class:`ledgerlink.contract.Demo`):
the settings of a connection to its sandbox, what the table calls an entry, and how much a
refused input was to book. A delivery the connector refuses before anything is sent (one in
a foreign currency that carries no exchange rate, say) shows as refused, with the run log's
message below the table. Nothing leaves the machine.
"""

from __future__ import annotations

import os
import secrets as pysecrets
import tempfile
import textwrap
import time
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from ledgerlink import store as store_module
from ledgerlink.cli.demo_serve import start_serve, toml_value, wait_until
from ledgerlink.connectors.catalog import SANDBOXES_PACKAGE
from ledgerlink.contract import Connection, Connector
from ledgerlink.errors import DemoError
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.web.servers import background

#: a run's status in the table when it failed before any request was sent
REFUSED = "refused, nothing sent"


class KeptUp(ExitStack):
    """The demo's server and sandboxes, kept up after it until this stack closes."""

    #: the server's web console, (address, admin token); None when no plugin serves one
    console: tuple[str, str] | None = None


def example_recipes() -> Path:
    """The folder of example recipes installed with ledgerlink (``ledgerlink/examples``: in
    the repository a link to its ``recipes/`` folder, the one copy; in a wheel, its files)."""
    folder = resources.files("ledgerlink").joinpath("examples")
    if not isinstance(folder, Path) or not folder.is_dir():
        raise DemoError(f"the example recipes are missing from this installation ({folder}); reinstall "
                        f"ledgerlink, or pass --recipes with a folder of recipes")
    return folder


def starter_config(catalog: Any, recipes: list[Path]) -> tuple[str, list[str]]:
    """A ledgerlink.toml to edit for ``recipes``: a ``[connections.NAME]`` table for each
    connection they name, every setting of its connector listed, commented out, under the
    connector's own description of it (secrets as ``${ENV_VAR}`` references). Returns the
    text and the connection names."""
    from ledgerlink import jsonio

    names: dict[str, None] = {}
    for path in recipes:
        recipe = jsonio.loads(path.read_text("utf-8"))
        for item in [recipe.get("trigger", {}), *recipe.get("steps", [])]:
            if isinstance(item, dict) and isinstance(item.get("connection"), str):
                names.setdefault(item["connection"], None)
    lines = ["# ledgerlink.toml: the connections the recipes name. Secrets are never written here:",
             "# each is a ${ENV_VAR} reference, read from the environment when it is needed.", ""]
    for name in sorted(names):
        connector = catalog.connectors.get(name)
        if connector is None:
            continue
        lines += [f"[connections.{name}]", f'connector = "{name}"']
        schema = connector.settings_schema.get("properties", {})
        for key, spec in schema.items():
            lines += [""] + textwrap.wrap(spec.get("description", key), width=96, initial_indent="# ",
                                          subsequent_indent="# ", break_on_hyphens=False)
            env = f"{name}_{key}".upper()
            if key in connector.secret_settings:
                value: Any = [f"${{{env}_1}}", f"${{{env}_2}}"] if spec.get("type") == "array" else f"${{{env}}}"
            else:
                value = connector.default_settings.get(key, spec.get("default", ""))
            lines.append(f"# {key} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines), sorted(n for n in names if n in catalog.connectors)


def _sends_whole_events(connector: Connector, catalog: Any) -> bool:
    """Whether the demo sends ``connector``'s example webhooks: it signs them, and each of
    their events runs as delivered on a connection configured with nothing but the webhook's
    secret. A ledger's examples are notifications its triggers read from the vendor first:
    they are for its conformance tests, not for a demo that runs no such vendor."""
    if not connector.examples or connector.webhook is None or connector.webhook.sign is None:
        return False
    bare = Connection(name=connector.name, connector=connector.name, settings={})
    for _, body in connector.examples():
        for event in connector.webhook.parse({}, body):
            trigger = catalog.triggers.get(event.trigger)
            if trigger is None or trigger.fetches(bare):
                return False
    return True


def run_demo(recipes: str | None = None, workdir: str | None = None, out: Callable[[str], None] = print,
             timeout: float = 60.0, keep: KeptUp | None = None) -> list[dict[str, Any]]:
    """Run the demo on ``recipes`` (default: the example recipes installed with ledgerlink);
    returns one row per delivery (also printed as a table).

    With ``keep``, the server and the sandboxes outlive the demo until ``keep`` closes, and
    the server's web console (when a plugin serves one at ``/console/``) is recorded as
    ``keep.console``."""
    recipes = str(Path(recipes).resolve()) if recipes else str(example_recipes())
    catalog = load_catalog()
    sources = [c for c in catalog.connectors.values() if _sends_whole_events(c, catalog)]
    if not catalog.sandboxes:
        raise DemoError(f"the demo sends to a vendor's loopback sandbox and none is installed; "
                        f"install the sandboxes with: pip install {SANDBOXES_PACKAGE}")
    sinks = [catalog.connectors[name] for name in sorted(catalog.sandboxes)
             if name in catalog.connectors and catalog.connectors[name].demo is not None]
    if not sources or not sinks:
        raise DemoError("the demo needs a connector with example webhooks and one with a sandbox; "
                        "check LEDGERLINK_PLUGINS")
    directory = Path(workdir or tempfile.mkdtemp(prefix="ledgerlink-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{directory / 'ledgerlink.db'}"
    admin = pysecrets.token_urlsafe(24)
    env = {**os.environ, "LEDGERLINK_ADMIN_TOKEN": admin}
    config_lines: list[str] = []
    source_secrets: dict[str, dict[str, str]] = {}

    with ExitStack() as stack:
        for sink in sinks:
            server = stack.enter_context(background(catalog.sandboxes[sink.name].factory()))
            config_lines += [f"[connections.{sink.name}]", f'connector = "{sink.name}"',
                             f'{sink.demo.address_setting} = "{server.url}"']
            for key, value in (sink.demo.settings if sink.demo else {}).items():
                if key in sink.secret_settings:  # through the environment, never in the file
                    env_name = f"LEDGERLINK_DEMO_{sink.name}_{key}".upper()
                    env[env_name] = value
                    value = f"${{{env_name}}}"
                config_lines.append(f"{key} = {toml_value(value)}")
            config_lines.append("")
            out(f"{sink.name} sandbox on {server.url}")
        for source in sources:
            whsec = "whsec_demo_" + pysecrets.token_hex(16)
            env_secret = f"LEDGERLINK_DEMO_{source.name.upper()}_SECRET"
            env[env_secret] = whsec
            source_secrets[source.name] = {"webhook_secret": whsec}
            config_lines += [f"[connections.{source.name}]", f'connector = "{source.name}"',
                             f'webhook_secret = "${{{env_secret}}}"', ""]
        config = directory / "ledgerlink.toml"
        config.write_text("\n".join(config_lines))
        store_module.upgrade(db)

        base, client = start_serve(stack, directory, db, recipes, config, env)
        auth = {"Authorization": f"Bearer {admin}"}
        out(f"ledgerlink serve on {base} (database {db})")

        deliveries = []
        for source in sources:
            for label, body in source.examples():
                headers = source.webhook.sign(body, source_secrets[source.name], time.time())
                response = client.post(f"{base}/webhooks/{source.name}", content=body, headers=headers)
                event = source.webhook.parse({}, body)[0]
                deliveries.append({"label": label, "event": event.id, "trigger": event.trigger,
                                   "http": response.status_code, "answer": response.json()})

        def settled() -> bool:
            runs = client.get(f"{base}/api/runs?limit=500", headers=auth).json()["runs"]
            return bool(runs) and all(r["status"] not in ("pending", "running", "retrying") for r in runs)

        wait_until(settled, timeout, "the runs to finish")
        runs = client.get(f"{base}/api/runs?limit=500", headers=auth).json()["runs"]
        by_event: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            detail = client.get(f"{base}/api/runs/{run['id']}", headers=auth).json()
            by_event.setdefault(run["event_id"], []).append(detail)

        rows = []
        refused: list[dict[str, Any]] = []
        seen: set[str] = set()
        for delivery in deliveries:
            duplicate = delivery["event"] in seen
            seen.add(delivery["event"])
            details = [] if duplicate else by_event.get(delivery["event"], [])
            if not details:
                rows.append({**delivery, "recipe": "—", "status": "duplicate, stored once" if duplicate
                             else "no recipe matched", "entry": "—", "amount": "—"})
            for detail in details:
                # what the run booked is its last step's (earlier steps find what that one books
                # on, such as the customer); it was refused when the step that failed sent nothing
                last = detail["steps"][-1] if detail["steps"] else {}
                output = (last.get("output") or {}) if last.get("status") == "succeeded" else {}
                row = {**delivery, "recipe": f"{detail['recipe_id']} v{detail['recipe_version']}",
                       "status": detail["status"], "entry": output.get("id", "—"),
                       "amount": _amount(output.get("total"), output.get("currency"))}
                failed = [s for s in detail["steps"] if s["status"] == "failed"]
                if detail["status"] == "failed" and not (failed and failed[-1].get("request")):
                    row["status"] = REFUSED
                    mapped = _mapped_amount(detail["steps"], sinks)
                    row["amount"] = f"{mapped} not booked" if mapped else "—"
                    refused.append(detail)
                rows.append(row)
        titles = {sink.demo.entry_title for sink in sinks if sink.demo}
        _print_table(rows, titles.pop() if len(titles) == 1 else "entry", out)
        out("")
        if refused:
            first = refused[0]
            ids = ", ".join(str(r["id"]) for r in refused)
            out(f"Refused before anything reached the ledger (run{'s' if len(refused) > 1 else ''} "
                f"{ids}); run {first['id']}'s message (ledgerlink runs show {first['id']}):")
            out(textwrap.fill(first.get("last_error") or "", width=100, initial_indent="  ",
                              subsequent_indent="  ", break_on_hyphens=False))
            out("")
        out("Where to look next:")
        out(f"  runs:        ledgerlink runs list --db {db}")
        out(f"  one run:     ledgerlink runs show RUN --db {db}")
        ran = [row["recipe"].rsplit(" v", 1)[0] for row in rows if row["recipe"] != "—"]
        first = _recipe_file(Path(recipes), ran[0]) if ran else None
        if first is not None:  # the recipe the first delivery ran
            out(f"  dry-run:     ledgerlink dry-run {first}")
        out(f"  files:       {directory} (ledgerlink.toml, ledgerlink.db, serve.log)")
        if keep is not None:
            keep.enter_context(stack.pop_all())  # serve and the sandboxes stay up
            console = client.get(f"{base}/console/login")
            keep.console = (f"{base}/console/", admin) if console.status_code == 200 else None
        return rows


def _recipe_file(folder: Path, recipe_id: str) -> Path | None:
    """The file in ``folder`` that holds recipe ``recipe_id`` (named after it, as a rule)."""
    from ledgerlink import jsonio

    named = folder / f"{recipe_id}.json"
    for path in [named, *sorted(folder.glob("*.json"))]:
        try:
            if path.is_file() and jsonio.loads(path.read_bytes()).get("id") == recipe_id:
                return path
        except (OSError, ValueError, AttributeError):
            continue
    return None


def _amount(total: Any, currency: Any) -> str:
    """``5.12``, ``KWD`` → ``5.120 KWD``: shown to the currency's ISO 4217 exponent."""
    from decimal import Decimal

    from ledgerlink.contract.money import currency_exponent

    if total is None:
        return "—"
    try:
        places = currency_exponent(currency)
        return f"{Decimal(str(total)).quantize(Decimal(1).scaleb(-places))} {currency}"
    except Exception:
        return f"{total} {currency or ''}".strip()


def _mapped_amount(steps: list[dict[str, Any]], sinks: list[Connector]) -> str | None:
    """What the failed step was to book, read from its mapped input by the connector that
    keeps the books (``Demo.amount``); None when no connector can tell."""
    failed = [s for s in steps if s.get("status") == "failed"]
    data = failed[-1].get("input") if failed else None
    if not isinstance(data, dict):
        return None
    for sink in sinks:
        booked = sink.demo.amount(data) if sink.demo and sink.demo.amount else None
        if booked is not None:
            return _amount(*booked)
    return None


def _print_table(rows: list[dict[str, Any]], entry_title: str, out: Callable[[str], None]) -> None:
    columns = [("label", "delivery"), ("event", "event"), ("http", "http"), ("recipe", "recipe"),
               ("status", "status"), ("entry", entry_title), ("amount", "amount")]
    widths = {key: max(len(title), *(len(str(r[key])) for r in rows)) for key, title in columns}
    out("")
    out("  ".join(title.ljust(widths[key]) for key, title in columns))
    out("  ".join("-" * widths[key] for key, _ in columns))
    for row in rows:
        out("  ".join(str(row[key]).ljust(widths[key]) for key, _ in columns))
