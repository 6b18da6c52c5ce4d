"""Pages from the console's Jinja templates: dates in the operator's time zone, amounts to
their currency's decimals, JSON laid out, and every secret the host knows redacted.

The console keeps a Jinja environment of its own (the app's is the host's): autoescaped,
and *finalized*, so every value a template prints passes through :func:`redacted` first. The
run log is already redacted when it is written; this is the second lock, for a value that
reached a step's input or an error's text some other way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, g
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ledgerlink import jsonio
from ledgerlink.contract.money import currency_exponent
from ledgerlink.errors import ConfigError
from ledgerlink.web.operator import operator

REDACTED = "[REDACTED]"


def zone() -> ZoneInfo:
    """The operator's time zone (``[console] timezone``, default UTC)."""
    name = operator().settings("console").get("timezone", "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[console] timezone = {name!r} is not an IANA time zone; write one such as "
                          f"\"Europe/Paris\" (or remove it for UTC)") from None


def redacted(value: Any) -> Any:
    """``value`` as a template prints it, with every known secret replaced by [REDACTED]."""
    if value is None:
        return ""
    secrets = getattr(g, "console_secrets", None)
    if secrets is None:
        secrets = g.console_secrets = operator().secret_values()
    if not secrets or not isinstance(value, str):
        return value
    markup = isinstance(value, Markup)
    text = str(value)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
        if markup:
            text = text.replace(str(escape(secret)), REDACTED)
    return Markup(text) if markup else text


def when(seconds: float | None) -> Markup:
    """A Unix time as ``<time>``: local to the operator, its UTC value in the title."""
    if seconds is None:
        return Markup("—")
    utc = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    local = utc.astimezone(zone())
    return Markup('<time datetime="{}" title="{} UTC">{}</time>').format(
        utc.isoformat(timespec="seconds").replace("+00:00", "Z"), utc.strftime("%Y-%m-%d %H:%M:%S"),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"))


def money(amount: Any, currency: Any) -> str:
    """``1234.5``, ``"USD"`` → ``1234.50 USD``; ``5.12``, ``"KWD"`` → ``5.120 KWD`` (ISO 4217)."""
    if amount is None:
        return "—"
    try:
        places = currency_exponent(str(currency))
        exact = Decimal(str(amount)).quantize(Decimal(1).scaleb(-places))
    except (InvalidOperation, ValueError, TypeError, KeyError):
        return f"{amount} {currency or ''}".strip()
    return f"{exact} {currency}"


def pretty(value: Any) -> str:
    """A JSON value laid out for reading (text as it is)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = jsonio.loads(value)
        except (jsonio.JSONDecodeError, ValueError):
            return value
    return jsonio.dumps(value, indent=2)


_env = Environment(loader=PackageLoader("ledgerlink_console", "templates"), autoescape=select_autoescape(),
                   finalize=redacted, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(when=when, money=money, pretty=pretty)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """``template`` rendered with ``context`` as an HTML answer."""
    from ledgerlink_console.session import ADMIN, csrf_token, who

    name = who()
    html = _env.get_template(template).render(csrf=csrf_token, signed_in=name is not None, who=name,
                                              admin=name == ADMIN, zone=zone().key, **context)
    return Response(redacted(html), status=status, mimetype="text/html")
