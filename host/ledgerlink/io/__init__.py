"""Everything that leaves the process: the one place a connection name becomes a way to send.

:mod:`.connections` (a connection's settings, secrets and transport), :mod:`.outbound`
(building and sending the exact HTTP request, redacted for logs and dry-run), :mod:`.files`
(performing file effects atomically, once per idempotency key), :mod:`.oauth` (consent, code
exchange, refresh once at a time), :mod:`.secrets` (tokens encrypted at rest) and
:mod:`.governor` (waiting for a slot inside the vendor's rate limits: in-process or shared
through PostgreSQL).
"""
