"""What the tests of webhooks subscribed through a vendor's API share: the vendor's side of
the handshake (a fresh secret POSTed as form fields to the subscribed address, as
FreshBooks does), the connector's functions that read it and check signatures with it, and
ledgerlink served on loopback over a runtime whose connector is an extra plugin."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from flask import Flask

from ledgerlink.config import load_config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Handshake, Subscription, signing_secrets
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.errors import SignatureError
from ledgerlink.io.secrets import new_key
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN

FORM = "application/x-www-form-urlencoded"


def post_handshake(sub: dict[str, Any]) -> None:
    """The vendor's handshake: the subscription's secret and id, POSTed to its address."""
    httpx.post(sub["url"], content=urlencode({"verifier": sub["secret"], "object_id": sub["id"]}),
               headers={"Content-Type": FORM})


def signed_form(fields: dict[str, str], secret: str) -> tuple[bytes, dict[str, str]]:
    """A delivery of ``fields`` as the vendor sends it, signed with ``secret``."""
    body = urlencode(fields).encode()
    return body, {"Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), "Content-Type": FORM}


def subscription(item: dict[str, Any]) -> Subscription:
    """A subscription as the vendor's API lists it."""
    return Subscription(id=item["id"], event=item["event"], url=item["url"], verified=item["verified"])


def verify(headers, body, secrets_, now) -> None:
    """A delivery is signed (HMAC-SHA256, hex, header ``Signature``) with a confirmed secret."""
    sent = headers.get("Signature", "")
    if not any(hmac.compare_digest(sent, hmac.new(s.encode(), body, hashlib.sha256).hexdigest())
               for s in signing_secrets(secrets_).values()):
        raise SignatureError("not signed by a confirmed subscription")


def handshake(headers, body) -> Handshake | None:
    """The handshake in a delivery's form fields, or None for an event."""
    fields = dict(parse_qsl(body.decode()))
    return Handshake(fields["object_id"], fields["verifier"]) if "verifier" in fields else None


@dataclass
class Served:
    """ledgerlink on loopback: its runtime, its address, and what another process would open."""

    runtime: Runtime
    url: str
    catalog: Catalog
    config: Path
    db: str


@contextlib.contextmanager
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, plugin: object, vendor: Flask,
           config: Callable[[str], str]) -> Iterator[Served]:
    """The vendor app and ledgerlink served on loopback; ``config(vendor_url)`` is the text of
    ledgerlink.toml, the connector plugin ``plugin`` is registered as ``name``; the secret box
    reads through (no cache)."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    catalog = load_catalog(build_plugin_manager(extra=[(name, plugin)]))
    with contextlib.ExitStack() as opened:
        vendor_url = opened.enter_context(background(vendor)).url
        config_file = tmp_path / "ledgerlink.toml"
        config_file.write_text(config(vendor_url))
        db = migrated_db(tmp_path)
        runtime = Runtime(catalog, load_config(config_file, catalog), Store(db), None, Settings())
        opened.callback(runtime.close)
        runtime.connections.secret_box.cache_seconds = 0.0
        url = opened.enter_context(background(create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime))).url
        yield Served(runtime, url, catalog, config_file, db)
