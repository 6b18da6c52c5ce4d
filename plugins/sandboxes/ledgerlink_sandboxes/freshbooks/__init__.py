"""A FreshBooks loopback sandbox: FreshBooks' API and identity service, in memory.

Built on the sandbox base (:mod:`ledgerlink.testing.sandbox`: the rate window, the OAuth
server, the signed webhook emitter), it holds only what is FreshBooks'. Serve it on loopback
with the base's runner (``ledgerlink sandbox freshbooks`` serves it on a fixed port)::

    from ledgerlink.testing.sandbox import running
    from ledgerlink_sandboxes.freshbooks import create_sandbox

    with running(create_sandbox()) as served:
        ...  # API at served.url + "/accounting/account/6BApk/…", token at served.url + "/auth/oauth/token"

What it imitates (FreshBooks' developer documentation, https://www.freshbooks.com/api/start):

- the identity service (:mod:`.identity`): consent, tokens (authorization code; refresh
  tokens good once), ``users/me`` with the business memberships (business_id and account_id;
  one seeded FreshBooks Classic account the API refuses, :mod:`.businesses`);
- the door (:mod:`.api`): bearer token, account, a conservative per-account rate window (429
  with ``Retry-After``), FreshBooks' three error shapes (:mod:`.errors`);
- the accounting resources (:mod:`.resources`): envelopes, ``search[…]`` filters including
  ``updated_min``, pages of at most 100, ``include[]``, deletion by ``vis_state``; clients
  (:mod:`.clients`);
- callbacks (:mod:`.callbacks`): registration, the verifier handshake, signed form POSTs;
- every request body checked against the community OpenAPI made strict, with the places
  FreshBooks is known to differ listed (:mod:`.spec`).
"""

from __future__ import annotations

from typing import Any

from ledgerlink.lazy import lazy_names

# Importing this package stays cheap (the plugin imports it to register the sandbox with
# every command): Flask, the spec and the state load on first use.
_LAZY = {"Sandbox": "state", "DEFAULT_ACCESS_TOKEN": "state", "DEFAULT_ACCOUNT_ID": "state",
         "DEFAULT_BUSINESS_ID": "state", "DEFAULT_CLIENT_ID": "state", "DEFAULT_CLIENT_SECRET": "state",
         "CLASSIC_ACCOUNT_ID": "state", "create_app": "app"}


__getattr__ = lazy_names(__name__, _LAZY)


#: the options of :func:`create_sandbox`, one line each (``ledgerlink sandbox freshbooks --set``)
OPTIONS = {
    "account_id": "the business's account_id, the accounting system id in every path (6BApk)",
    "business_id": "the business's business_id (6543)",
    "currency": "the business's currency, ISO 4217 (USD)",
    "classic": "also list a FreshBooks Classic account, which the API refuses (true)",
    "more_businesses": "more businesses of the same user, each {\"account_id\", \"business_id\"[, "
                       "\"currency\"]} ([])",
    "categories": "custom expense subcategories each business also has, by name, as a business makes "
                  "them in FreshBooks ([\"Chargebacks\"]) ([])",
    "error_shape": "legacy ({\"response\": {\"errors\": [...]}}) or new ({\"code\", \"details\"}) for "
                   "not-found and refused bodies (legacy)",
    "rate_limit": "enforce the rate window (true); false only measures it",
    "minute_limit": "requests per account in any 60 s (60; FreshBooks publishes none)",
    "concurrent": "requests in progress at once per account (5)",
    "access_tokens": "bearer tokens always accepted ([\"freshbooks-sandbox-access-token\"])",
    "client_id": "the OAuth client id the token endpoint accepts (freshbooks-sandbox-client)",
    "client_secret": "the OAuth client secret the token endpoint accepts (freshbooks-sandbox-secret)",
    "latency": "seconds every admitted API request takes (0)",
    "callback_retry_seconds": "waits between attempts of a callback POST not answered 2xx ([1, 5, 30])",
}


def create_sandbox(**options: Any) -> Any:
    """A WSGI app imitating FreshBooks; ``app.sandbox`` is its :class:`~.state.Sandbox`.

    Options (all keyword) are those of :data:`OPTIONS`, plus ``clock`` (seconds for the rate
    window and token expiry; pass a fake to control time) and ``wall_clock`` (Unix time for
    stamps). Unknown options raise ``TypeError``; bad values ``ValueError``. The request
    schemas are loaded here so the first request is not slow.
    """
    from . import spec
    from .app import create_app
    from .state import Sandbox

    sandbox = Sandbox(**options)
    spec.load()
    return create_app(sandbox)


__all__ = ["CLASSIC_ACCOUNT_ID", "DEFAULT_ACCESS_TOKEN", "DEFAULT_ACCOUNT_ID", "DEFAULT_BUSINESS_ID",
           "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "OPTIONS", "Sandbox", "create_app", "create_sandbox"]
