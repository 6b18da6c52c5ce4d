"""Choosing the tenant an OAuth consent is for, the same way for every connector.

One consent may cover several tenants (organisations, businesses, companies). A
connector's ``OAuth2.learn_tenant`` lists them and calls :func:`choose_tenant`: the one the
connection's settings name, else the only one, else a clear error listing them so the
person can name one and connect again.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledgerlink.contract.components import Connection
from ledgerlink.errors import ConfigError


def choose_tenant(tenants: Mapping[str, str], connection: Connection, setting: str) -> str:
    """The id of the tenant ``connection`` is for, among ``tenants`` (id → name).

    The connection's ``setting`` wins when set; it must be one of ``tenants``. Unset, a
    single tenant is the one. ConfigError otherwise, listing every tenant."""
    listed = ", ".join(f"{tenant_id} ({name})" if name else tenant_id for tenant_id, name in tenants.items())
    chosen = connection.settings.get(setting)
    if chosen:
        if str(chosen) in tenants:
            return str(chosen)
        raise ConfigError(f"connection {connection.name!r} sets {setting} = {str(chosen)!r}, but the consent "
                          f"covers only {listed or 'no tenant'}; fix {setting} in [connections.{connection.name}] "
                          f"and connect again")
    if len(tenants) == 1:
        return next(iter(tenants))
    if not tenants:
        raise ConfigError(f"the consent for connection {connection.name!r} covers no tenant; connect again "
                          f"and choose one on the consent screen")
    raise ConfigError(f"the consent for connection {connection.name!r} covers {len(tenants)} tenants: {listed}; "
                      f"set {setting} to one of them in [connections.{connection.name}] and connect again")
