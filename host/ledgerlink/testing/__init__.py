"""The test kit every connector's tests use (``ledgerlink.testing``).

:mod:`.sandbox` (with :mod:`.sandbox_oauth` and :mod:`.sandbox_webhooks`) is the base vendor
sandboxes are built on: a loopback server runner, rate windows, idempotency-key replay,
scripted faults, an OAuth 2.0 token endpoint and a signed webhook emitter.
"""
