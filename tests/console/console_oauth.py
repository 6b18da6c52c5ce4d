"""A console over an OAuth QuickBooks connection: the QuickBooks sandbox on loopback serves
the consent page and the token endpoint, as the connection's ``authorize_url`` and
``token_url`` say; the tokens are stored encrypted under a fresh secret key."""

from __future__ import annotations

from pathlib import Path

from ledgerlink.io.secrets import new_key

#: the app's client secret in the test environment: a secret no page may show
CLIENT_SECRET = "sandbox-secret"


def oauth_config(tmp_path: Path, monkeypatch, qbo_url: str) -> Path:
    """A ledgerlink.toml with Stripe and an OAuth QuickBooks connection on the sandbox at
    ``qbo_url``, its secrets in the environment."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_QBO_CLIENT_SECRET", CLIENT_SECRET)
    path = tmp_path / "ledgerlink.toml"
    path.write_text(
        '[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
        f'[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "{qbo_url}"\n'
        f'authorize_url = "{qbo_url}/connect/oauth2"\ntoken_url = "{qbo_url}/oauth2/v1/tokens/bearer"\n'
        'client_id = "sandbox-client"\nclient_secret = "${LL_QBO_CLIENT_SECRET}"\n')
    return path


def stored_secrets(runtime) -> list[str]:
    """The QuickBooks tokens stored now, and the client secret: what no page may show."""
    tokens = runtime.connections.secret_box.get("quickbooks")
    return [CLIENT_SECRET] + [str(tokens[k]) for k in ("access_token", "refresh_token") if tokens.get(k)]
