"""The notify connection's settings: an SMTP server for ``notify.email``, an address for
``notify.webhook``.

One connection is usually one of the two: ``[connections.alerts_mail]`` names a mail server,
``[connections.alerts_slack]`` a webhook address. The secrets (``password``, ``secret_url``,
``signing_secret``) are ``${ENV_VAR}`` references, never logged or shown. The SMTP user name is
a plain setting: it is often the sender's address, which every message and its log show.
"""

from __future__ import annotations

#: settings read only from the environment, redacted everywhere
SECRET_SETTINGS = ("password", "secret_url", "signing_secret")

SETTINGS = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "minLength": 1,
                 "description": "notify.email: the SMTP server's host name."},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                 "description": "notify.email: the SMTP server's port (default 587 with STARTTLS, 465 with "
                                "implicit TLS, 25 without TLS)."},
        "security": {"enum": ["starttls", "tls", "none"],
                     "description": "notify.email: starttls (default: the session is upgraded before anything "
                                    "is said, and a server without STARTTLS is refused), tls (TLS from the "
                                    "first byte, port 465) or none (a relay on this machine only)."},
        "ca_file": {"type": "string", "minLength": 1,
                    "description": "notify.email: a PEM file of the certificate authorities to trust instead "
                                   "of the system's (a private relay's own)."},
        "from": {"type": "string", "minLength": 3,
                 "description": "notify.email: the sender address when a recipe names none, e.g. "
                                "\"ledgerlink <alerts@example.com>\"."},
        "to": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string", "minLength": 3},
               "description": "notify.email: the recipients when a recipe names none, e.g. "
                              "[\"Bookkeeping <books@example.com>\"]: shipped recipes leave to out, so "
                              "the addresses are written once, here."},
        "username": {"type": "string",
                     "description": "notify.email: the SMTP AUTH user name (AUTH is used when set, "
                                    "over TLS only)."},
        "password": {"type": "string", "description": "Secret, notify.email: the SMTP AUTH password."},
        "url": {"type": "string", "pattern": "^https?://",
                "description": "notify.webhook: the address the JSON is posted to, when it is no secret."},
        "secret_url": {"type": "string",
                       "description": "Secret, notify.webhook: the address, when the address is itself a "
                                      "credential (a Slack incoming webhook's URL); used when url is not set."},
        "signing_secret": {"type": "string",
                           "description": "Secret, notify.webhook: when set, each body is signed with it: "
                                          "X-Ledgerlink-Signature: sha256=<hex HMAC-SHA256 of the body>."},
    },
}
