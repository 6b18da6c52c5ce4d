"""ledgerlink.toml: validated, secrets only as ${ENV} references, never printed."""

import pytest

from ledgerlink.config import find_config_file, load_config
from ledgerlink.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "ledgerlink.toml"
    path.write_text(text)
    return path


def test_connections_and_secrets(tmp_path, catalog, monkeypatch):
    path = write(tmp_path, '[connections.books]\nconnector = "quickbooks"\nrealm_id = "123"\n'
                           'base_url = "http://127.0.0.1:8081"\naccess_token = "${BOOKS_TOKEN}"\n')
    config = load_config(path, catalog)
    connection = config.connection("books", catalog)
    assert connection.connector == "quickbooks" and connection.settings["realm_id"] == "123"
    assert "access_token" not in connection.settings
    monkeypatch.setenv("BOOKS_TOKEN", "s3cr3t")
    assert config.secrets("books", catalog) == {"access_token": "s3cr3t"}
    monkeypatch.delenv("BOOKS_TOKEN")
    with pytest.raises(ConfigError) as info:
        config.secrets("books", catalog)
    assert "${BOOKS_TOKEN}" in str(info.value) and "not set" in str(info.value)


@pytest.mark.parametrize("text, words", [
    ('[connections.books]\nconnector = "quickbooks"\naccess_token = "literal-token-value"\n',
     "/connections/books/access_token: a secret must be written as ${ENV_VAR}"),
    ('[connections.books]\nconnector = "quikbooks"\n', 'did you mean "quickbooks"'),
    # only secrets are read from the environment: a reference elsewhere would be sent as written
    ('[connections.mail]\nconnector = "notify"\nhost = "smtp.example.com"\nusername = "${SMTP_USER}"\n',
     "/connections/mail/username: '${SMTP_USER}' would be used literally; only secret settings (password, secret_url, "
     "signing_secret) are read from the environment; write the value itself"),
    ('[connections.books]\nconnector = "quickbooks"\nrealm_id = "${REALM}"\n',
     "/connections/books/realm_id: '${REALM}' would be used literally"),
    ('[connections.books]\nrealm_id = "1"\n', "'connector' is a required property"),
    ('[connection.books]\nconnector = "quickbooks"\n', "Additional properties are not allowed"),
    ('[connections.books\n', "not valid TOML"),
    ('[connections.hooks]\nconnector = "stripe"\ntolerance_seconds = "soon"\n', "/connections/hooks/tolerance_seconds"),
    # the shared governor hands limits to PostgreSQL as INTEGER
    ('[connections.books]\nconnector = "quickbooks"\n[connections.books.limits]\nrequests = 10\nper_seconds = 1\n'
     'daily = 2147483648\n', "/connections/books/limits/daily: 2147483648 is greater than the maximum of 2147483647"),
    # TOML has nan and inf; JSON Schema bounds cannot catch NaN (it is neither above nor below)
    ('[connections.books]\nconnector = "quickbooks"\npoll_seconds = nan\n',
     "/connections/books/poll_seconds: nan is not a number a setting can have"),
    ('[connections.books]\nconnector = "quickbooks"\npoll_seconds = inf\n',
     "/connections/books/poll_seconds: inf is not a number a setting can have"),
    ('[connections.books]\nconnector = "quickbooks"\n[connections.books.limits]\nrequests = 10\nper_seconds = nan\n',
     "/connections/books/limits/per_seconds: nan is not a number a setting can have"),
    ('[connections.books]\nconnector = "quickbooks"\n[connections.books.limits]\nrequests = 10\nper_seconds = +inf\n',
     "/connections/books/limits/per_seconds: inf is not a number a setting can have"),
    ('[connections.hooks]\nconnector = "stripe"\ntolerance_seconds = -inf\n',
     "/connections/hooks/tolerance_seconds: -inf is not a number a setting can have"),
    # no name or reference ends in a newline ("$" of a pattern is the end, as in ECMAScript)
    ('[connections."books\\n"]\nconnector = "quickbooks"\n', "/connections: 'books\\n' does not match"),
    ('[connections.books]\nconnector = "quickbooks"\naccess_token = "${LL_TOKEN}\\n"\n',
     "/connections/books/access_token: a secret must be written as ${ENV_VAR}"),
    # the console's dates: a zone that does not exist is refused when the file is read, not on a page
    ('[console]\ntimezone = "Europe/Pariss"\n', "/console/timezone: 'Europe/Pariss' is not an IANA time zone"),
    ('[console]\nsession_hours = 0\n', "/console/session_hours: 0 is less than the minimum of 0.1"),
])
def test_bad_config(tmp_path, catalog, text, words):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), catalog)
    assert words in str(info.value) and str(write(tmp_path, text)) in str(info.value)
    assert "literal-token-value" not in str(info.value)


def test_config_file_lookup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGERLINK_CONFIG", raising=False)
    assert find_config_file() is None
    write(tmp_path, "")
    assert str(find_config_file()) == "ledgerlink.toml"
    monkeypatch.setenv("LEDGERLINK_CONFIG", "/elsewhere.toml")
    assert str(find_config_file()) == "/elsewhere.toml"
    assert str(find_config_file("given.toml")) == "given.toml"


def test_missing_config_file(tmp_path, catalog):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", catalog)
    assert "no such config file" in str(info.value)


def test_implicit_connection_and_unknown_name(catalog):
    from ledgerlink.config import Config
    connection = Config().connection("quickbooks", catalog)
    assert connection.implicit and connection.connector == "quickbooks"
    with pytest.raises(ConfigError) as info:
        Config().connection("quickbook", catalog)
    assert 'did you mean "quickbooks"' in str(info.value)


def test_schema_patterns_end_where_the_string_ends():
    from ledgerlink.connectors.catalog import Validator

    name = Validator({"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"})
    assert name.is_valid("books") and not name.is_valid("books\n") and not name.is_valid("books\nx")
    names = Validator({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}})
    assert names.is_valid({"books": 1}) and not names.is_valid({"books\n": 1})
    # a "$" escaped or in a class is the character itself; a pattern without anchors still searches
    assert Validator({"pattern": "^a\\$$"}).is_valid("a$") and not Validator({"pattern": "^a\\$$"}).is_valid("a$\n")
    assert Validator({"pattern": "^[$]+$"}).is_valid("$$") and Validator({"pattern": "b"}).is_valid("abc")


def test_a_token_set_is_shared_with_a_connection_of_the_same_connector_that_keeps_its_own(tmp_path, catalog):
    tables = ('[connections.stripe]\nconnector = "stripe"\n[connections.books-a]\nconnector = "quickbooks"\n'
              '[connections.books-b]\nconnector = "quickbooks"\ntoken_set = "books-a"\n')
    config = load_config(write(tmp_path, tables), catalog)
    assert (config.token_set("books-b"), config.token_set("books-a")) == ("books-a", "books-a")
    assert config.sharing("books-a") == ["books-a", "books-b"]
    assert "token_set" not in config.connection("books-b", catalog).settings  # the host's, not the connector's
    cases = {'token_set = "nowhere"': "no connection named 'nowhere'",
             'token_set = "stripe"': "is a 'stripe' connection",
             'token_set = "books-b"': "itself uses the tokens of 'books-a'",
             'token_set = "books-c"': "cannot share its own tokens"}
    for line, message in cases.items():
        with pytest.raises(ConfigError, match=message):
            load_config(write(tmp_path, f'{tables}[connections.books-c]\nconnector = "quickbooks"\n{line}\n'), catalog)
    with pytest.raises(ConfigError, match="does not use OAuth"):
        load_config(write(tmp_path, f'{tables}[connections.hooks]\nconnector = "stripe"\ntoken_set = "stripe"\n'),
                    catalog)
