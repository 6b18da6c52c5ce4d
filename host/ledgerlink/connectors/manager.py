"""Build the plugin manager and the catalog.

Built-in connectors and third-party packages are found the same way: through the
``ledgerlink`` entry-point group. ``LEDGERLINK_PLUGINS=stripe,quickbooks`` (entry-point
names, comma separated) loads only those. The host's own transforms are registered as
the plugin ``core``, always first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

import pluggy

from ledgerlink.contract import hookspecs
from ledgerlink.recipes import transforms
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.errors import PluginError

GROUP = "ledgerlink"
HOOKS = {
    "ledgerlink_register_connectors": "connector",
    "ledgerlink_register_triggers": "trigger",
    "ledgerlink_register_actions": "action",
    "ledgerlink_register_transforms": "transform",
    "ledgerlink_register_sandboxes": "sandbox",
}


def _wanted(env: str | None) -> set[str] | None:
    if env is None or not env.strip():
        return None
    return {name.strip() for name in env.split(",") if name.strip()}


def build_plugin_manager(only: str | None = None,
                         extra: Iterable[tuple[str, object]] = ()) -> pluggy.PluginManager:
    """A new plugin manager with the core and every (or each wanted) entry-point plugin.

    ``only`` defaults to ``$LEDGERLINK_PLUGINS``; ``extra`` adds ``(name, plugin)`` pairs
    registered after the entry points (an application embedding ledgerlink, or a test). An unknown hook name in a plugin, a plugin
    that fails to import, or an unknown name in ``only`` is a :class:`PluginError`.
    """
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    pm.register(transforms, name="core")
    wanted = _wanted(os.environ.get("LEDGERLINK_PLUGINS") if only is None else only)
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if wanted is not None:
        unknown = sorted(wanted - set(found))
        if unknown:
            raise PluginError(
                f"LEDGERLINK_PLUGINS names {', '.join(unknown)}, which no installed package "
                f"provides; installed: {', '.join(sorted(found)) or 'none'}")
    for name in sorted(found):
        if wanted is not None and name not in wanted:
            continue
        if pm.get_plugin(name) is not None:
            continue
        try:
            module = found[name].load()
        except Exception as exc:  # a broken third-party package must not look like our bug
            raise PluginError(f"plugin {name!r} ({found[name].value}) failed to import: "
                              f"{type(exc).__name__}: {exc}") from exc
        pm.register(module, name=name)
    for name, plugin in extra:
        pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin {name!r}: {exc.args[0] if exc.args else exc}; the hooks are "
                          f"listed in ledgerlink.contract.hookspecs") from None
    return pm


def call_registrations(pm: pluggy.PluginManager, hook_name: str,
                       registrar: Callable[[str], Callable[..., None]]) -> None:
    """Call ``hook_name``'s implementations in registration order (the core first), each
    with ``register=registrar(plugin_name)``, so what a plugin registers is known as its."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        kwargs = {"register": registrar(impl.plugin_name)}
        impl.function(*[kwargs[arg] for arg in impl.argnames])


def load_catalog(pm: pluggy.PluginManager | None = None) -> Catalog:
    """Call every registration hook, plugin by plugin, and check the result."""
    pm = pm or build_plugin_manager()
    catalog = Catalog()
    for hook_name, kind in HOOKS.items():
        call_registrations(pm, hook_name, lambda plugin, kind=kind: catalog.registrar(kind, plugin))
    catalog.check()
    catalog.hooks = pm.hook
    return catalog
