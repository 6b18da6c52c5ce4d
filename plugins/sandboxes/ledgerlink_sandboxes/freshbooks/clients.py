"""Clients (``/accounting/account/{account_id}/users/clients``), as FreshBooks keeps them
(https://www.freshbooks.com/api/clients; the answer's shape: create_client_response.json).

A client needs a way to be told apart: an ``email``, an ``organization`` or a name
(``fname``/``lname``); FreshBooks refuses one with none. Its id is both ``id`` and ``userid``;
``organization`` defaults to the e-mail address, ``currency_code`` to the business's.
"""

from __future__ import annotations

from typing import Any

from . import errors, resources
from .businesses import Business
from .errors import Problem

#: the fields of a client FreshBooks answers, with their values when not given
DEFAULTS: dict[str, Any] = {
    "allow_email_include_pdf": False, "allow_late_fees": True, "allow_late_notifications": True,
    "bus_phone": "", "company_industry": None, "company_size": None, "direct_link_token": None, "email": "",
    "fax": "", "fname": "", "has_retainer": None, "home_phone": None, "language": "en", "last_activity": None,
    "last_login": None, "level": 0, "lname": "", "mob_phone": "", "note": None, "notified": False,
    "num_logins": 0, "p_city": "", "p_code": "", "p_country": "", "p_province": "", "p_street": "",
    "p_street2": "", "pref_email": True, "pref_gmail": False, "retainer_id": None, "role": "client",
    "s_city": "", "s_code": "", "s_country": "", "s_province": "", "s_street": "", "s_street2": "",
    "statement_token": None, "subdomain": None, "vat_name": None, "vat_number": None,
}
#: fields a client sends that FreshBooks does not keep as such
TRANSIENT = ("contacts", "late_reminders", "late_fee", "highlight_string", "source", "face", "status", "userid")


def _problems(fields: dict[str, Any]) -> list[Problem]:
    if not any(str(fields.get(name) or "").strip() for name in ("email", "organization", "fname", "lname")):
        return [Problem(errors.INVALID_FIELD, "A client needs an email, an organization or a name.",
                        "organization", "client")]
    return []


def create(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems = _problems(fields)
    if problems:
        return None, problems
    now = business.now()
    client = {**DEFAULTS, **{key: value for key, value in fields.items() if key not in TRANSIENT}}
    client.update({"accounting_systemid": business.account_id, "signup_date": now, "updated": now,
                   "username": f"client{business._next + 1}", "vis_state": 0})
    client["currency_code"] = str(client.get("currency_code") or business.currency).upper()
    client["organization"] = client.get("organization") or client.get("email") or \
        f"{client.get('fname', '')} {client.get('lname', '')}".strip()
    return business.add("clients", client), []


def update(business: Business, client: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    merged = {**client, **changes}
    problems = _problems(merged)
    if not problems:
        client.update({key: value for key, value in changes.items() if key not in TRANSIENT})
    return problems


CLIENTS = resources.register(resources.Kind(
    collection="clients", path="users/clients", singular="client", create_schema="ClientCreateObject",
    update_schema="ClientCreateObject", create=create, update=update, event="client"))

__all__ = ["CLIENTS", "DEFAULTS"]
