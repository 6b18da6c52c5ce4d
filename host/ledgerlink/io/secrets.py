"""Connection secrets (OAuth tokens) encrypted at rest with Fernet.

The key comes from ``LEDGERLINK_SECRET_KEY`` (``ledgerlink secret-key`` prints a new one).
Without it, nothing can be stored or read, and the error says how to set it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from ledgerlink import jsonio
from ledgerlink.errors import ConfigError
from ledgerlink.store import Store

ENV = "LEDGERLINK_SECRET_KEY"


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def key_from_environment() -> str | None:
    """``$LEDGERLINK_SECRET_KEY``, or None when unset: the one place the key is read."""
    return os.environ.get(ENV) or None


def _fernet(key: str | None = None) -> Fernet:
    key = key or key_from_environment()
    if not key:
        raise ConfigError(f"{ENV} is not set; set it to a key from `ledgerlink secret-key` to store "
                          f"connection tokens encrypted")
    try:
        return Fernet(key.encode("ascii") if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise ConfigError(f"{ENV} is not a valid key; make one with `ledgerlink secret-key`") from None


class SecretBox:
    """Reads and writes one connection's secrets as one encrypted JSON object.

    What was read is kept in this process for ``cache_seconds`` (decrypted, in memory only),
    so a worker does not read and decrypt the tokens for every request; a write through this
    box forgets it at once. Another process's change (a refresh, a reconnect, a connection
    marked ``needs_reauth``) is seen within ``cache_seconds``: an access token another
    process refreshed stays valid until it expires, and a token the vendor refused makes
    this process expire it itself.
    """

    def __init__(self, store: Store, key: str | None = None, cache_seconds: float = 15.0) -> None:
        self.store = store
        self._key = key
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[dict[str, Any], str | None, float]] = {}
        self._cache_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether a key is set, so secrets can be stored and read (without one, a
        connection uses only the secrets its configuration names)."""
        return bool(self._key or key_from_environment())

    def _read(self, connection: str) -> tuple[dict[str, Any], str | None]:
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(connection)
        if hit is not None and now - hit[2] < self.cache_seconds:
            return hit[0], hit[1]
        blob = self.store.secret_blob(connection)
        if blob is None:
            values, status = {}, None
        else:
            try:
                values, status = jsonio.loads(_fernet(self._key).decrypt(blob[0])), blob[1]
            except InvalidToken:
                raise ConfigError(f"the stored secrets of connection {connection!r} cannot be decrypted with "
                                  f"{ENV}; was the key changed? reconnect the connection") from None
        with self._cache_lock:
            self._cache[connection] = (values, status, now)
        return values, status

    def forget(self, connection: str) -> None:
        """Read the stored secrets again next time."""
        with self._cache_lock:
            self._cache.pop(connection, None)

    def get(self, connection: str) -> dict[str, Any]:
        return dict(self._read(connection)[0])

    def put(self, connection: str, values: dict[str, Any], status: str = "ok") -> None:
        self.forget(connection)
        self.store.put_secret_blob(connection, _fernet(self._key).encrypt(jsonio.dumps(values).encode()), status)
        self.forget(connection)

    def locked_update(self, connection: str, change: Any) -> Any:
        """``change(values, status) -> (values, status, result) | (None, None, result)`` under
        the connection's lock (see :meth:`ledgerlink.store.Store.locked_secret`)."""
        fernet = _fernet(self._key)

        def wrapped(blob: bytes | None, status: str | None) -> Any:
            values = {}
            if blob is not None:
                try:
                    values = jsonio.loads(fernet.decrypt(blob))
                except InvalidToken:
                    raise ConfigError(f"the stored secrets of connection {connection!r} cannot be decrypted "
                                      f"with {ENV}; was the key changed? reconnect the connection") from None
            new_values, new_status, result = change(values, status)
            new_blob = None if new_values is None else fernet.encrypt(jsonio.dumps(new_values).encode())
            return new_blob, new_status, result

        self.forget(connection)
        try:
            return self.store.locked_secret(connection, wrapped)
        finally:
            self.forget(connection)

    def status(self, connection: str) -> str | None:
        return self._read(connection)[1]
