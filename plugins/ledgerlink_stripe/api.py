"""Stripe's API, sans-I/O: the key, the headers, form bodies, list pages and error answers.

Nothing here sends anything: it builds :class:`~ledgerlink.contract.Request` objects and
reads :class:`~ledgerlink.contract.Response` objects, and the host does the I/O. What it
follows, from Stripe's API reference (https://docs.stripe.com/api):

- **Authentication** (docs.stripe.com/api/authentication): ``Authorization: Bearer <key>``
  with a secret key (``sk_live_``/``sk_test_``) or a restricted key (``rk_live_``/``rk_test_``).
- **Versioning** (docs.stripe.com/api/versioning): ``Stripe-Version`` pins the shape of
  every answer; each connection pins one (``api_version``, default :data:`DEFAULT_API_VERSION`).
- **Connected accounts** (docs.stripe.com/connect/authentication): ``Stripe-Account``.
- **Idempotent requests** (docs.stripe.com/api/idempotent_requests): every POST carries
  ``Idempotency-Key``, the step's ``ctx.idempotency_key``.
- **Form bodies** (docs.stripe.com/api, "form-encoded request bodies"): a hash is
  ``metadata[key]=value``, an array of strings ``expand[]=a&expand[]=b``, an array of hashes
  ``lines[0][amount]=…``, a boolean ``true``/``false``, an amount an integer; ``""`` unsets.
- **Pagination** (docs.stripe.com/api/pagination): ``limit`` up to 100, ``has_more``, and
  ``starting_after`` the last id of the page.
- **Errors** (docs.stripe.com/api/errors): ``{"error": {"type", "code", "message", "param"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ledgerlink.contract import ActionContext, Limits, Request, Response
from ledgerlink.contract.http import ErrorReading, Kind, classify
from ledgerlink.errors import ActionError, ConfigError, VendorError

API_BASE = "https://api.stripe.com"
#: the Stripe-Version a connection pins unless its ``api_version`` setting says otherwise
DEFAULT_API_VERSION = "2023-08-16"
#: the most objects one list request returns (docs.stripe.com/api/pagination)
PAGE_LIMIT = 100

#: secret keys (sk_) and restricted keys (rk_), live or test mode
KEY = re.compile(r"^(sk|rk)_(live|test)_[0-9A-Za-z_]+$")
#: a permission named in a 403 answer to a restricted key ("the 'rak_invoice_write' permission")
_PERMISSION = re.compile(r"'(rak_[a-z0-9_]+)'")
#: Stripe's error codes that mean "come back a little later"
_RETRY_CODES = frozenset({"lock_timeout", "rate_limit"})

Pairs = list[tuple[str, str]]


# --- the connection -------------------------------------------------------------------

def auth(secrets: Mapping[str, Any]) -> dict[str, str]:
    """``Authorization: Bearer <api_key>`` for a connection's secret settings.

    Raises :class:`ConfigError` naming the ``api_key`` setting (never quoting it) when the
    key is missing or is not a Stripe secret or restricted key. A value in square brackets
    is the placeholder the host puts in place of every secret when it shows a request
    (dry-run), and is let through as is.
    """
    key = secrets.get("api_key")
    if not isinstance(key, str) or not key:
        raise ConfigError("the Stripe connection has no api_key setting; set it to a secret key "
                          "(sk_live_…/sk_test_…) or restricted key (rk_live_…/rk_test_…), e.g. "
                          "api_key = \"${STRIPE_API_KEY}\"")
    if not KEY.match(key) and not (key.startswith("[") and key.endswith("]")):
        shape = "a publishable key (pk_…), which cannot read or write" if key.startswith("pk_") else \
            f"a value of {len(key)} characters that does not start with sk_live_, sk_test_, rk_live_ or rk_test_"
        raise ConfigError(f"the Stripe connection's api_key setting is {shape}; use a secret key "
                          f"(sk_live_…/sk_test_…) or a restricted key (rk_live_…/rk_test_…)")
    return {"Authorization": f"Bearer {key}"}


#: Stripe's limits (docs.stripe.com/rate-limits): live mode 100 read and 100 write requests a
#: second, test mode 25 of each. One window per connection holds reads and writes together,
#: so a live connection stays under both by keeping to 100 in all; test mode to 25.
LIVE_LIMITS = Limits(100, 1.0)
TEST_LIMITS = Limits(25, 1.0)


def limits_for(secrets: Mapping[str, Any]) -> Limits:
    """A live key's limits (``sk_live_…``/``rk_live_…``) or test mode's for any other key."""
    key = secrets.get("api_key")
    live = isinstance(key, str) and (key.startswith("sk_live_") or key.startswith("rk_live_"))
    return LIVE_LIMITS if live else TEST_LIMITS


def url(ctx: ActionContext, path: str, *ids: str) -> str:
    """``api_base`` + ``path`` with each ``{}`` filled by an id, escaped for a path segment."""
    base = str(ctx.connection.settings.get("api_base") or API_BASE).rstrip("/")
    return base + path.format(*(quote(str(i), safe="") for i in ids))


def headers(ctx: ActionContext, *, post: bool = False) -> dict[str, str]:
    """``Stripe-Version``, ``Stripe-Account`` when set, and on a POST ``Idempotency-Key``."""
    settings = ctx.connection.settings
    found = {"Stripe-Version": str(settings.get("api_version") or DEFAULT_API_VERSION)}
    if settings.get("stripe_account"):
        found["Stripe-Account"] = str(settings["stripe_account"])
    if post:
        found["Idempotency-Key"] = ctx.idempotency_key
    return found


# --- form bodies ----------------------------------------------------------------------

def _scalar(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ActionError(f"{name}: Stripe takes no {value} amount")
        return format(value, "f")
    if isinstance(value, float):
        raise ActionError(f"{name}: a float ({value!r}) is never sent to Stripe; pass an int or a Decimal")
    if isinstance(value, str):
        return value
    raise ActionError(f"{name}: cannot form-encode {type(value).__name__} for Stripe")


def encode(params: Mapping[str, Any], prefix: str = "") -> Pairs:
    """Stripe's form encoding of ``params`` as ordered pairs; None values are left out.

    ``{"metadata": {"a": "1"}, "expand": ["x", "y"], "paid_out_of_band": True}`` →
    ``[("metadata[a]", "1"), ("expand[]", "x"), ("expand[]", "y"), ("paid_out_of_band", "true")]``.
    """
    pairs: Pairs = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs += encode(value, name)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs += encode(item, f"{name}[{index}]")
                else:
                    pairs.append((f"{name}[]", _scalar(item, name)))
        else:
            pairs.append((name, _scalar(value, name)))
    return pairs


def query(params: Mapping[str, Any]) -> dict[str, str]:
    """A GET's query: Stripe's encoding with arrays indexed (``expand[0]``), since a query
    is a mapping here and Stripe reads ``expand[0]=a&expand[1]=b`` as it reads ``expand[]``."""
    found: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, value in encode(params):
        if name.endswith("[]"):
            index = counts.get(name, 0)
            counts[name] = index + 1
            name = f"{name[:-2]}[{index}]"
        found[name] = value
    return found


def get(ctx: ActionContext, path: str, *ids: str, params: Mapping[str, Any] | None = None) -> Request:
    """A GET of ``path`` on the connection, its query encoded as Stripe reads it."""
    return Request("GET", url(ctx, path, *ids), params=query(params or {}), headers=headers(ctx))


def post(ctx: ActionContext, path: str, *ids: str, params: Mapping[str, Any] | None = None) -> Request:
    """A POST of ``path`` with a form body and the step's idempotency key."""
    return Request("POST", url(ctx, path, *ids), headers=headers(ctx, post=True),
                   form=encode(params or {}))


# --- errors ---------------------------------------------------------------------------

def read_error(response: Response) -> ErrorReading | None:
    """What Stripe's error body says, for :func:`ledgerlink.contract.http.classify`.

    ``card_error`` and ``invalid_request_error`` keep the status's kind (a 4xx: give up,
    with Stripe's message and ``param``; a 401: a new key); ``lock_timeout`` and
    ``rate_limit`` are retried after ``Retry-After``; a 403 to a restricted key names the
    permission it lacks when Stripe's message names it.
    """
    body = response.json
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    message = str(error.get("message") or "no message")
    kind_of_error = str(error.get("type") or "")
    code = error.get("code") if isinstance(error.get("code"), str) else None
    detail = message
    if isinstance(error.get("param"), str):
        detail += f" (param: {error['param']})"
    kind: Kind | None = None
    throttled = code in _RETRY_CODES
    if response.status == 403:
        permission = _PERMISSION.search(message)
        if permission:
            detail = (f"the API key lacks the permission {permission.group(1)}; give the "
                      f"restricted key that permission in the Stripe Dashboard ({message})")
        kind = "permanent"
    elif kind_of_error == "api_error" and response.status < 500:
        kind = "retry"
    label = "/".join(part for part in (kind_of_error, code) if part)
    codes = frozenset(c for c in (code, error.get("decline_code")) if isinstance(c, str))
    return ErrorReading(detail=detail, vendor_code=code, codes=codes, kind=kind,
                        throttled=throttled, label=label)


def stripe_classify(response: Response) -> VendorError | None:
    """The :class:`VendorError` a Stripe answer stands for, or None for a success."""
    return classify(response, vendor="Stripe", read_error=read_error, throttle_wait=1.0)


def checked(response: Response) -> Any:
    """The JSON of a successful answer; the classified error otherwise."""
    error = stripe_classify(response)
    if error is not None:
        raise error
    return response.json


def check_credentials(ctx: ActionContext) -> Generator[Request, Response, Any]:
    """The read-only request ``ledgerlink connect`` sends to check a key: the balance,
    which every secret key and every restricted key with balance read access may read
    (docs.stripe.com/api/balance/balance_retrieve). A refused key raises its classified error."""
    return checked((yield get(ctx, "/v1/balance")))


# --- lists ----------------------------------------------------------------------------

def pages(ctx: ActionContext, path: str, params: Mapping[str, Any] | None = None,
          *, limit: int = PAGE_LIMIT) -> Generator[Request, Response, list[Any]]:
    """Every object of a Stripe list: yields one GET per page (``limit``, then
    ``starting_after`` the last id while ``has_more``) and returns the objects in order."""
    found: list[Any] = []
    after: str | None = None
    while True:
        page_params = {**dict(params or {}), "limit": limit}
        if after is not None:
            page_params["starting_after"] = after
        body = checked((yield get(ctx, path, params=page_params)))
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise VendorError(f"Stripe answered the list {path} without its data array", kind="retry")
        found += data
        if not body.get("has_more") or not data:
            return found
        last = data[-1]
        if not isinstance(last, Mapping) or not isinstance(last.get("id"), str):
            raise VendorError(f"Stripe answered the list {path} with an object without an id", kind="retry")
        after = last["id"]


__all__ = ["API_BASE", "DEFAULT_API_VERSION", "KEY", "PAGE_LIMIT", "auth", "check_credentials", "checked",
           "encode", "get", "headers", "pages", "post", "query", "read_error", "stripe_classify", "url"]
