"""A connector's OAuth 2.0 flows, as the host runs them (:mod:`ledgerlink.io.oauth`): the
vendor's addresses, scopes, client authentication, PKCE, the grants a connection may choose,
and how the tenant a consent covers is learned."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledgerlink.contract.components import Connection, Request, Response


@dataclass(frozen=True)
class OAuth2:
    """A connector's OAuth 2.0 flows (the host runs them, :mod:`ledgerlink.io.oauth`).

    The URLs are defaults; a connection may override them with the settings
    ``authorize_url`` and ``token_url`` (a sandbox on loopback in tests). The client is
    ``client_id`` (setting) and ``client_secret`` (secret setting). A connection chooses
    among :attr:`grants` with its ``grant`` setting (the first when unset), so a connector
    offering more than one grant declares ``grant`` in its settings schema.
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    #: "basic": client id and secret in an HTTP Basic header; "body": in the form
    client_auth: str = "basic"
    #: the vendor takes PKCE (RFC 7636): the consent URL carries an S256 ``code_challenge``,
    #: the code exchange its ``code_verifier``
    pkce: bool = False
    #: ``learn_tenant(query, connection)``: run once the code is exchanged, to learn which
    #: tenant (company, organisation, business) the consent is for. A generator like an
    #: action's ``perform``: it yields Requests, which the host sends with the fresh access
    #: token as a Bearer, and returns the settings to store on the connection (e.g.
    #: ``{"tenant_id": …}``). ``query`` is the consent redirect's whole query (a vendor that
    #: names the company there is read from it, with nothing sent); ``connection`` has the
    #: configured settings, so a consent covering several tenants takes the configured one
    #: (:func:`ledgerlink.contract.choose_tenant`).
    learn_tenant: Callable[[Mapping[str, str], Connection],
                           Generator[Request, Response, Mapping[str, Any]]] | None = None
    #: the grants a connection may choose: "authorization_code" (a person consents in a
    #: browser; the tokens refresh, rotating) and "client_credentials" (RFC 6749 §4.4: the
    #: app's own id and secret fetch an access token without a browser and without a refresh
    #: token; the host asks for a new one when it expires)
    grants: tuple[str, ...] = ("authorization_code",)


__all__ = ["OAuth2"]
