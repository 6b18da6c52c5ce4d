"""ledgerlink.toml: named connections, validated by ``schemas/config.schema.json``.

::

    [connections.stripe]
    connector = "stripe"
    webhook_secret = "${STRIPE_WEBHOOK_SECRET}"

    [connections.books]
    connector = "quickbooks"
    realm_id = "9130350000000000"

A secret setting (the connector lists which) must be an ``${ENV_VAR}`` reference; its
value is read from the environment only when it is needed and never printed. A recipe
may name a connector directly (``"connection": "quickbooks"``) when no connection of
that name is configured: it then gets the connector's default settings.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from ledgerlink.contract import Connection, Limits
from ledgerlink.connectors.catalog import Catalog, Validator
from ledgerlink.errors import ConfigError
from ledgerlink.recipes.paths import suggest

#: keys of a [connections.NAME] table that the host reads itself
HOST_KEYS = ("connector", "limits", "poll_seconds", "token_set")
ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
DEFAULT_FILE = "ledgerlink.toml"
#: a ``[console.users]`` password hash: scrypt in the PHC string format (cost, salt, digest)
PASSWORD_HASH = re.compile(r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22,88})\$([A-Za-z0-9+/]{43,88})")


def load_schema(name: str) -> dict[str, Any]:
    """One of the JSON Schemas shipped in ``schemas/``."""
    text = resources.files("ledgerlink").joinpath("schemas", name).read_text("utf-8")
    return json.loads(text)


def _errors(schema: Mapping[str, Any], instance: Any) -> list[jsonschema.ValidationError]:
    validator = Validator(schema)
    return sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path) if path else "/"


def _not_finite(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], float]]:
    """Where ``value`` (parsed TOML) holds ``nan`` or ``inf``, which TOML allows but no
    setting means, and JSON Schema bounds cannot catch (NaN is neither above nor below)."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _not_finite(item, (*path, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _not_finite(item, (*path, index))]
    return []


@dataclass
class Config:
    file: str = ""
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the other top-level tables (``[alerts]``), checked by the config schema
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def source_of_truth(self) -> dict[str, str]:
        """``[source_of_truth]``: the connection that owns each type of shared record
        (``{"customers": "stripe"}``); recipes read it as ``$.truth``."""
        return dict(self.tables.get("source_of_truth", {}))

    def connection(self, name: str, catalog: Catalog) -> Connection:
        """The named connection with its non-secret settings; ConfigError if it is unknown."""
        raw = self.connections.get(name)
        if raw is None:
            connector = catalog.connectors.get(name)
            if connector is None:
                where = f" in {self.file}" if self.file else " (no ledgerlink.toml was found)"
                known = set(self.connections) | set(catalog.connectors)
                raise ConfigError(f"unknown connection {name!r}{where}; add a [connections.{name}] "
                                  f"table with its connector" + suggest(name, known))
            return Connection(name, name, dict(connector.default_settings), implicit=True)
        connector = catalog.connectors[raw["connector"]]
        settings = {**connector.default_settings,
                    **{k: v for k, v in raw.items()
                       if k not in HOST_KEYS and k not in connector.secret_settings}}
        configured = frozenset(k for k in connector.secret_settings if k in raw)
        return Connection(name, raw["connector"], settings, configured_secrets=configured)

    def limits(self, name: str, default: Limits | None) -> Limits | None:
        """The connection's rate limits: ``[connections.NAME.limits]`` or the connector's."""
        raw = self.connections.get(name, {}).get("limits")
        if raw is None:
            return default
        return Limits(**raw)

    def poll_seconds(self, name: str) -> float | None:
        """How often the connection polls (``poll_seconds``); None: it does not poll."""
        value = self.connections.get(name, {}).get("poll_seconds")
        return float(value) if value else None

    def token_set(self, name: str) -> str:
        """The connection whose stored OAuth tokens ``name`` uses: the one its ``token_set``
        names (several tenants on one consent share one token set), else itself."""
        value = self.connections.get(name, {}).get("token_set")
        return value if isinstance(value, str) and value else name

    def sharing(self, token_set: str) -> list[str]:
        """The connections that use the tokens stored for ``token_set``, itself first."""
        return [token_set] + sorted(name for name in self.connections
                                    if name != token_set and self.token_set(name) == token_set)

    def secrets(self, name: str, catalog: Catalog) -> dict[str, Any]:
        """The connection's secret settings, read from the environment now."""
        raw = self.connections.get(name, {})
        connector = catalog.connectors[raw.get("connector", name)]
        out: dict[str, Any] = {}
        for key in connector.secret_settings:
            if key not in raw:
                continue
            out[key] = _resolve(raw[key], f"connections.{name}.{key}", self.file)
        return out


def _token_set_problems(file: str, name: str, raw: Mapping[str, Any], connections: Mapping[str, Any],
                        catalog: Catalog) -> list[str]:
    """What is wrong with a connection's ``token_set``: it must name another configured
    connection of the same OAuth connector that keeps its own tokens (no chains)."""
    shared = raw.get("token_set")
    if shared is None:
        return []
    where = f"{file}:/connections/{name}/token_set"
    owner = connections.get(shared) if isinstance(shared, str) else None
    connector = catalog.connectors.get(raw["connector"])
    if connector is None or connector.oauth is None:
        return [f"{where}: connector {raw['connector']!r} does not use OAuth; remove token_set"]
    if shared == name:
        return [f"{where}: a connection cannot share its own tokens; remove token_set"]
    if not isinstance(owner, dict):
        return [f"{where}: no connection named {shared!r} is configured; name the connection "
                f"whose consent this one shares"]
    if owner.get("connector") != raw["connector"]:
        return [f"{where}: {shared!r} is a {owner.get('connector')!r} connection; a token set is "
                f"shared by connections of one connector"]
    if owner.get("token_set") is not None:
        return [f"{where}: {shared!r} itself uses the tokens of {owner['token_set']!r}; name "
                f"{owner['token_set']!r} instead"]
    return []


def _literal_references(file: str, name: str, settings: Mapping[str, Any], secret: Any) -> list[str]:
    """A ``${VAR}`` in a setting that is not a secret would be sent as those very characters
    (only secrets are read from the environment): refused, naming the setting and the fix."""
    problems = []
    for key, values in settings.items():
        if key in secret:
            continue
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and "${" in value:
                problems.append(f"{file}:/connections/{name}/{key}: {value!r} would be used literally; "
                                f"only secret settings ({', '.join(sorted(secret)) or 'none here'}) are "
                                f"read from the environment; write the value itself")
    return problems


def _resolve(value: Any, where: str, file: str) -> Any:
    if isinstance(value, list):
        return [_resolve(v, f"{where}[{i}]", file) for i, v in enumerate(value)]
    match = ENV_REF.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f"{file}: {where} is a secret; write it as ${{ENV_VAR}} and set that "
                          f"variable, never the value itself")
    env = match.group(1)
    if env not in os.environ:
        raise ConfigError(f"{file}: {where} refers to ${{{env}}}, which is not set in the environment")
    return os.environ[env]


def _is_time_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def find_config_file(explicit: str | None = None) -> Path | None:
    """``--config`` if given, else ``$LEDGERLINK_CONFIG``, else ``./ledgerlink.toml`` if it exists."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("LEDGERLINK_CONFIG")
    if env:
        return Path(env)
    here = Path(DEFAULT_FILE)
    return here if here.is_file() else None


def load_config(path: str | Path | None, catalog: Catalog) -> Config:
    """Read and check a config file; every problem is reported at once."""
    if path is None:
        return Config()
    path = Path(path)
    file = str(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file; pass --config with an existing file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    problems = [f"{file}:{_pointer(path)}: {value} is not a number a setting can have; write a finite "
                f"number (or remove the key for its default)" for path, value in _not_finite(data)]
    problems += [f"{file}:{_pointer(e.absolute_path)}: {e.message}"
                 for e in _errors(load_schema("config.schema.json"), data)]
    connections = data.get("connections", {}) if isinstance(data.get("connections"), dict) else {}
    for name, raw in connections.items():
        if not isinstance(raw, dict) or "connector" not in raw:
            continue
        connector = catalog.connectors.get(raw["connector"])
        if connector is None:
            problems.append(f"{file}:/connections/{name}/connector: unknown connector "
                            f"{raw['connector']!r}" + suggest(raw["connector"], catalog.connectors))
            continue
        settings = {k: v for k, v in raw.items() if k not in HOST_KEYS}
        if isinstance(raw.get("limits"), dict):
            try:
                Limits(**raw["limits"])
            except (TypeError, ValueError) as exc:
                problems.append(f"{file}:/connections/{name}/limits: {exc}")
        if raw.get("poll_seconds") is not None:
            if connector.poll is None:
                problems.append(f"{file}:/connections/{name}/poll_seconds: connector {connector.name!r} "
                                f"has no poll; remove poll_seconds (its events arrive by webhook)")
            elif isinstance(raw["poll_seconds"], (int, float)) and raw["poll_seconds"] < connector.poll.min_seconds:
                problems.append(f"{file}:/connections/{name}/poll_seconds: {raw['poll_seconds']} is below "
                                f"{connector.poll.min_seconds:g}, the shortest interval {connector.name!r} "
                                f"tolerates; poll less often")
        problems += _token_set_problems(file, name, raw, connections, catalog)
        for error in _errors(connector.settings_schema, settings):
            problems.append(f"{file}:/connections/{name}{_pointer(error.absolute_path).rstrip('/')}: "
                            f"{error.message}")
        problems += _literal_references(file, name, settings, connector.secret_settings)
        for key in connector.secret_settings:
            values = raw.get(key)
            for value in values if isinstance(values, list) else [values]:
                if value is not None and not (isinstance(value, str) and ENV_REF.fullmatch(value)):
                    problems.append(f"{file}:/connections/{name}/{key}: a secret must be written as "
                                    f"${{ENV_VAR}}, never literally; move the value to an "
                                    f"environment variable")
    truth = data.get("source_of_truth") if isinstance(data.get("source_of_truth"), dict) else {}
    for kind, owner in truth.items():
        if isinstance(owner, str) and owner not in connections:
            problems.append(f"{file}:/source_of_truth/{kind}: no connection {owner!r}; name one of the "
                            f"[connections] tables" + suggest(owner, connections))
    zone = data.get("console", {}).get("timezone") if isinstance(data.get("console"), dict) else None
    if isinstance(zone, str) and not _is_time_zone(zone):
        problems.append(f"{file}:/console/timezone: {zone!r} is not an IANA time zone; write one such as "
                        f"\"Europe/Paris\" (or remove it for UTC)")
    users = data.get("console", {}).get("users") if isinstance(data.get("console"), dict) else None
    for name, value in (users or {}).items() if isinstance(users, dict) else ():
        if isinstance(value, str) and not PASSWORD_HASH.fullmatch(value):  # never quoted: it may be a password
            problems.append(f"{file}:/console/users/{name}: not a password hash ($scrypt$ln=…,r=…,p=…$salt$digest); "
                            f"run `ledgerlink console hash-password` and paste the line it prints, never the "
                            f"password itself")
    if problems:
        raise ConfigError("\n".join(problems))
    tables = {k: v for k, v in data.items() if k != "connections" and isinstance(v, dict)}
    return Config(file=file, connections=connections, tables=tables)
