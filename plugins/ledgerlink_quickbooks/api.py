"""What every QuickBooks Online request shares: the pinned minor version, URLs, and faults.

Nothing here performs I/O. :func:`entity_url` builds the address of an entity endpoint
from a connection's settings, :func:`params` its query (with the ``requestid`` of a write,
:func:`request_id`); :func:`classify` is the host's
:func:`ledgerlink.contract.classify` specialised with QBO's error body: it turns a QBO
``Fault`` (or a bare HTTP error) into a :class:`ledgerlink.errors.VendorError` whose
``kind`` tells the host whether to give up, retry later or ask for a reconnect.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import (ActionContext, ErrorReading, Kind, Request, Response,
                                 read_then_delete)
from ledgerlink.contract import classify as classify_http
from ledgerlink.contract.http import any_case as _get
from ledgerlink.contract.writes import Undo
from ledgerlink.errors import ConfigError, InputError, VendorError

#: The Accounting API minor version every request sends. Since 1 Aug 2025 QBO ignores
#: 1–74 and treats a missing value as 75, so 75 is sent explicitly
#: (blogs.intuit.com 2025-01-21 "Changes to our Accounting API").
#: Change it here only, after reading that minor version's release notes.
MINORVERSION = 75

#: Production API root (Intuit docs); the sandbox is https://sandbox-quickbooks.api.intuit.com
DEFAULT_BASE_URL = "https://quickbooks.api.intuit.com"

#: QBO keeps a ``requestid`` for at most this many characters (Intuit blog 2015-04-06)
MAX_REQUEST_ID = 50

#: Seconds to wait after a throttle fault when the vendor names no ``Retry-After``
#: (whether QBO sends Retry-After is not documented)
THROTTLE_BACKOFF = 60.0

#: ``Error.code`` of QBO's throttle fault (``message=ThrottleExceeded; errorCode=003001``)
THROTTLE_CODE = 3001
#: ``Error.code`` of an expired or revoked access token (``AuthenticationFailed; errorCode=003200``)
AUTHENTICATION_CODE = 3200

#: the headers of a request that sends a JSON body and reads a JSON answer
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}

_FAULT_NS = "{http://schema.intuit.com/finance/v3}"


def entity_url(settings: Mapping[str, Any], entity: str) -> str:
    """``{base_url}/v3/company/{realm_id}/{entity}`` for a connection's settings.

    ``base_url`` defaults to production; a trailing slash is ignored. ``entity`` is QBO's
    lower-case endpoint name (``"journalentry"``, ``"invoice"``, ``"query"``). Raises
    :class:`ledgerlink.errors.ConfigError` when ``realm_id`` is missing or cannot be a path
    segment, naming the setting to fix.
    """
    base_url = settings.get("base_url") or DEFAULT_BASE_URL
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"QuickBooks setting base_url must be an http(s) URL such as "
                          f"{DEFAULT_BASE_URL!r}, got {base_url!r}")
    realm_id = settings.get("realm_id")
    if not isinstance(realm_id, str) or not realm_id.strip():
        raise ConfigError("QuickBooks setting realm_id is missing; set realm_id to the company's "
                          "realm id (Company ID, shown under Settings > Account and settings > "
                          "Billing & subscription in QuickBooks Online)")
    if any(ch in realm_id for ch in "/?#%") or any(ch.isspace() for ch in realm_id):
        raise ConfigError(f"QuickBooks setting realm_id {realm_id!r} may not contain '/', '?', "
                          f"'#', '%' or spaces; it is the company's numeric realm id")
    if not isinstance(entity, str) or not entity.isalnum():
        raise ValueError(f"entity must be a QBO endpoint name such as 'journalentry', got {entity!r}")
    return f"{base_url.rstrip('/')}/v3/company/{realm_id}/{entity}"


def params(request_id: str | None = None) -> dict[str, str]:
    """Query parameters for a QBO request: the pinned minor version and, for writes, ``requestid``."""
    out = {"minorversion": str(MINORVERSION)}
    if request_id is not None:
        out["requestid"] = request_id
    return out


def request_id(key: Any, action: str) -> str:
    """The step's idempotency key as QBO's ``requestid``, checked."""
    if not isinstance(key, str) or not key.strip():
        raise InputError(f"{action}: the step has no idempotency key; QuickBooks needs a requestid "
                         f"to avoid creating the transaction twice")
    if len(key) > MAX_REQUEST_ID:
        raise InputError(f"{action}: the idempotency key is {len(key)} characters long; QuickBooks "
                         f"keeps a requestid of at most {MAX_REQUEST_ID} (use a UUID)")
    return key


def auth_headers(secrets: Mapping[str, Any]) -> dict[str, str]:
    """The headers that authenticate a QBO request: ``Authorization: Bearer <access_token>``.

    ``secrets`` are the connection's secret settings and stored OAuth tokens, as the host
    resolves them. Without an access token no header is added; QBO then answers 401, which
    :func:`classify` turns into a ``"reauth"`` error asking for ``ledgerlink connect``.
    """
    token = secrets.get("access_token") if isinstance(secrets, Mapping) else None
    if isinstance(token, str) and token.strip():
        return {"Authorization": f"Bearer {token.strip()}"}
    return {}


# --- faults ------------------------------------------------------------------------------

def fault_from_xml(text: str) -> dict[str, Any] | None:
    """The JSON shape of an XML ``IntuitResponse``/``Fault`` body, or None if it holds none.

    QBO answers in XML when a proxy or an old endpoint ignores ``Accept``. The result has the
    shape of the JSON API: ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
    "type": ...}, "time": ...}``.
    """
    if not isinstance(text, str) or not text.lstrip().startswith("<") or len(text) > 65536:
        return None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # never expand entities from the network
        return None
    try:
        root = ElementTree.fromstring(text.strip().encode("utf-8"))
    except ElementTree.ParseError:
        return None

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    fault = root if local(root.tag) == "Fault" else next(
        (el for el in root if local(el.tag) == "Fault"), None)
    if fault is None:
        return None
    errors = []
    for err in fault:
        if local(err.tag) != "Error":
            continue
        item: dict[str, Any] = {}
        for child in err:
            item[local(child.tag)] = (child.text or "").strip()
        for attr in ("code", "element"):
            if attr in err.attrib:
                item[attr] = err.attrib[attr]
        errors.append(item)
    out: dict[str, Any] = {"Fault": {"Error": errors, "type": fault.attrib.get("type", "")}}
    if "time" in root.attrib:
        out["time"] = root.attrib["time"]
    return out


def _fault(response: Response) -> tuple[str, list[dict[str, str]]] | None:
    """(type, errors) of the response's Fault, or None when the body holds no Fault."""
    body = response.json
    fault = _get(body, "Fault")
    if fault is None and body is None:
        xml_body = fault_from_xml(response.text)
        fault = xml_body["Fault"] if xml_body else None
    if not isinstance(fault, Mapping):
        return None
    raw_errors = _get(fault, "Error")
    if isinstance(raw_errors, Mapping):
        raw_errors = [raw_errors]
    errors = []
    for raw in raw_errors if isinstance(raw_errors, list) else []:
        if not isinstance(raw, Mapping):
            continue
        errors.append({key: str(_get(raw, key) if _get(raw, key) is not None else "")
                       for key in ("Message", "Detail", "code", "element")})
    fault_type = _get(fault, "type")
    return (fault_type if isinstance(fault_type, str) else "", errors)


def _code(error: Mapping[str, str]) -> int | None:
    try:
        return int(error.get("code", "").strip())
    except ValueError:
        return None


def _describe(errors: list[dict[str, str]]) -> str:
    parts = []
    for error in errors:
        text = error.get("Message", "").strip()
        detail = error.get("Detail", "").strip()
        if detail and detail != text:
            text = f"{text}: {detail}" if text else detail
        if error.get("code"):
            text = f"code {error['code']}: {text}"
        if error.get("element"):
            text += f" (element {error['element']})"
        parts.append(text)
    return "; ".join(p for p in parts if p) or "no error detail given"


def read_fault(response: Response) -> ErrorReading | None:
    """What a QBO answer's ``Fault`` says, or None when it holds none (a success, or a bare
    HTTP error whose status decides). QBO's kinds, beyond the status:

    - HTTP 429 or a throttle fault (code 3001, ``ThrottleExceeded``, also sent with 403) →
      throttled (``"retry"``);
    - ``AuthenticationFault`` or code 3200 → ``"reauth"``;
    - ``AuthorizationFault`` or HTTP 403 → ``"reauth"`` (the connected user or app lacks
      access to the company: reconnect with an admin user of that realm);
    - HTTP 5xx, 408, ``SystemFault`` → ``"retry"``;
    - ``ValidationFault`` or a Fault in a 2xx body → ``"permanent"``.
    """
    parsed = _fault(response)
    status = response.status
    if parsed is None and status < 400:
        return None
    fault_type, errors = parsed if parsed is not None else ("", [])
    codes = {_code(e) for e in errors} - {None}
    lowered = fault_type.lower()
    throttled = (status == 429 or THROTTLE_CODE in codes
                 or any("throttleexceeded" in e.get("Message", "").replace(" ", "").lower()
                        for e in errors))
    kind: Kind
    if status == 401 or lowered == "authenticationfault" or AUTHENTICATION_CODE in codes:
        kind = "reauth"
    elif lowered == "authorizationfault" or status == 403:
        kind = "reauth"
    elif status >= 500 or status == 408 or lowered == "systemfault":
        kind = "retry"
    else:
        kind = "permanent"
    detail = _describe(errors) if errors else (response.text or "").strip()[:500] or "no body"
    if status == 404 and not errors:
        detail += "; check base_url and realm_id in the connection settings"
    return ErrorReading(detail=detail, kind=kind, throttled=throttled,
                        vendor_code=next((e["code"] for e in errors if e.get("code")), None),
                        codes=frozenset(str(code) for code in codes), label=fault_type)


def _explain(kind: Kind, reading: ErrorReading, response: Response, wait: float | None) -> str:
    """QBO's messages: what happened, in QuickBooks' terms, and what to do."""
    status = response.status
    label = f"HTTP {status}" + (f" {reading.label}" if reading.label else "")
    detail = reading.detail
    lowered = reading.label.lower()
    if reading.throttled:
        return (f"QuickBooks throttled the request ({label}): {detail}; the limits are 500 "
                f"requests/minute and 10 concurrent requests per company; retry after "
                f"{wait:g} s")
    if kind == "reauth" and (status == 401 or lowered == "authenticationfault"
                             or str(AUTHENTICATION_CODE) in reading.codes):
        return (f"QuickBooks refused the credentials ({label}): {detail}; refresh the access "
                f"token or reconnect the QuickBooks connection (ledgerlink connect NAME)")
    if kind == "reauth":
        return (f"QuickBooks denied access to the company ({label}): {detail}; check that "
                f"realm_id names the company that was connected, then reconnect with an admin "
                f"user of that company (ledgerlink connect NAME)")
    if kind == "retry":
        return (f"QuickBooks failed to process the request ({label}): {detail}; this is on "
                f"Intuit's side and is retried")
    return f"QuickBooks rejected the request ({label}): {detail}{_known_trap(reading.codes, detail)}"


def classify(response: Response) -> VendorError | None:
    """The :class:`VendorError` a QBO response stands for, or None when it is a success.

    QBO's error body is ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
    "type": ...}, "time": ...}`` (keys may be lower-case on 401s; an XML body is read too),
    read by :func:`read_fault`; HTTP 429 and 5xx/408 are the host's
    (:func:`ledgerlink.contract.classify`). A throttled request waits ``Retry-After`` or
    60 s. The message carries QBO's ``code``, ``Message``, ``Detail`` and ``element``.
    """
    return classify_http(response, vendor="QuickBooks", read_error=read_fault,
                         explain=_explain, throttle_wait=THROTTLE_BACKOFF)


def _known_trap(codes: Any, detail: str) -> str:
    """What to do about the faults integrators meet most (MARKET.md pain points 10 and 15)."""
    text = detail.lower()
    codes = {str(code) for code in codes}
    if "6000" in codes and ("tax" in text or "vat" in text or "gst" in text):
        return ("; outside the US edition every line needs a tax code: add a TaxCodeRef to each line "
                "from a recipe lookup table (e.g. \"tax_codes\") and check it with `ledgerlink check`")
    if "6140" in codes or "6210" in codes:
        return ("; the DocNumber is already used in this company: map a unique DocNumber (e.g. the source "
                "invoice number), leave DocNumber out, or turn off the duplicate-number warning in QuickBooks")
    if "5010" in codes and "period" not in text:
        return "; the entity changed since it was read (SyncToken): read it again and resend the update"
    if "2500" in codes or "610" in codes:
        return "; an id in the request does not exist in this company: run `ledgerlink check RECIPE`"
    return ""


def deleter(entity: str, endpoint: str) -> Undo:
    """``undo(target_id, ctx)`` for a transaction QuickBooks can delete
    (:func:`ledgerlink.contract.read_then_delete`): read its current SyncToken, then
    ``POST …/<endpoint>?operation=delete``. An entity already gone (Object Not Found, 610)
    counts as undone."""

    def read(target_id: str, ctx: ActionContext) -> Request:
        url = entity_url(ctx.connection.settings, endpoint)
        return Request(method="GET", url=f"{url}/{target_id}", params=params(None),
                       headers={"Accept": "application/json"})

    def delete(target_id: str, current: Response, ctx: ActionContext) -> Request:
        sync_token = str(current.json[entity].get("SyncToken", "0"))
        return Request(method="POST", url=entity_url(ctx.connection.settings, endpoint),
                       params={**params(None), "operation": "delete"},
                       headers={"Accept": "application/json", "Content-Type": "application/json"},
                       json={"Id": target_id, "SyncToken": sync_token})

    return read_then_delete(read=read, delete=delete, gone=_object_not_found, classify=classify,
                            name=f"undo_{endpoint}")


def _object_not_found(response: Response) -> bool:
    fault = response.json.get("Fault") if isinstance(response.json, Mapping) else None
    errors = fault.get("Error", []) if isinstance(fault, Mapping) else []
    return response.status == 400 and any(str(e.get("code")) == "610" for e in errors if isinstance(e, Mapping))
