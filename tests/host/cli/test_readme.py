"""The README's commands really work, so they cannot drift."""

import os
import re
import subprocess
import sys
import tomllib

from vendor_files import REPO
from ledgerlink import jsonio

README = (REPO / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def commands():
    first = blocks("sh")[0]
    return [line.split("#")[0].strip() for line in first.splitlines() if line.strip()]


def test_readme_opens_with_one_sentence_then_two_commands():
    body = README.split("\n", 2)[2].strip()
    first_paragraph = body.split("\n\n")[0]
    assert first_paragraph.count(". ") == 0 and first_paragraph.endswith(".")
    assert commands() == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci" / "run").read_text()
    assert commands()[1] in script.splitlines()


def clean_env(**extra):
    """The environment a person's shell has: no pytest or outer-make variables."""
    drop = ("PYTEST", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, **extra}


def test_make_demo_runs(tmp_path):
    result = subprocess.run(commands()[0].split(), cwd=REPO, capture_output=True, text=True, env=clean_env(),
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    table = [line for line in lines if line.startswith(("invoice paid", "the USD event", "charge refunded", "credit note"))]
    assert len(table) == 6, result.stdout
    assert sum("succeeded" in line for line in table) == 2
    assert table[0].startswith("invoice paid, USD") and "1234.56 USD" in table[0]
    assert "duplicate, stored once" in table[3]
    # the sandbox company keeps its books in USD: a delivery in another currency, with no
    # exchange rate, is read exactly and refused before anything is sent, never booked 1:1
    assert any(line.startswith("invoice paid, KWD") and "refused, nothing sent" in line
               and "5.120 KWD not booked" in line for line in table)
    assert any(line.startswith("invoice paid, JPY") and "refused, nothing sent" in line
               and "12000 JPY not booked" in line for line in table)
    assert any(line.startswith("credit note, EUR") and "refused, nothing sent" in line for line in table)
    # a refused run booked nothing, though its first step found (or created) the customer
    columns = [re.split(r"\s{2,}", line.strip()) for line in table]
    assert [c[5] for c in columns if c[4] == "refused, nothing sent"] == ["—"] * 3, result.stdout
    words = " ".join(result.stdout.split())
    assert "/ExchangeRate: CurrencyRef is JPY, not the company's home currency USD" in words
    assert "so give ExchangeRate: how many USD one JPY is worth" in words
    assert "Where to look next:" in result.stdout
    # then a simulated day booked through the clearing account: the README's table, as printed
    [books] = blocks("text")
    assert all(line in lines for line in books.strip().splitlines()), result.stdout
    assert "The books tie out" in result.stdout
    # it ends with the web console's address and the token that signs in to it
    assert re.fullmatch(r"Console: +http://127\.0\.0\.1:\d+/console/  \(sign in with the admin token \S+\)",
                        lines[-1]), lines[-1]


def test_make_test_runs_pytest_in_the_project_venv():
    # the real command, narrowed to one test so that it does not run this suite inside itself
    env = clean_env(PYTEST_ADDOPTS="-k test_error_shape_is_pinned -p no:cacheprovider")
    result = subprocess.run(commands()[1].split(), cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b1 passed\b", result.stdout)


def test_readme_recipe_example_is_valid(tmp_path, run_subprocess):
    recipe = jsonio.loads(blocks("json")[0])
    path = tmp_path / f"{recipe['id']}.json"
    path.write_text(jsonio.dumps(recipe))
    result = run_subprocess("validate", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    dry = run_subprocess("dry-run", str(path))
    assert dry.returncode == 0, dry.stderr


def test_readme_config_example_loads(tmp_path, catalog):
    from ledgerlink.config import load_config
    text = blocks("toml")[0]
    tomllib.loads(text)
    path = tmp_path / "ledgerlink.toml"
    path.write_text(text)
    config = load_config(path, catalog)
    assert set(config.connections) == {"stripe", "quickbooks"}


def test_readme_cli_commands_exist(run_subprocess):
    """Each command the README lists exists; what each does is tested in its own test file
    (test_plugins, test_validate, test_dry_run, test_store, test_crash, test_service_cli,
    test_getting_started, test_backfill_cli, test_export, test_freshbooks_callbacks_sandbox,
    test_reconcile, test_books_reconcile, test_schedules_listing, tests/console/test_console_users)."""
    listed = re.findall(r"\.venv/bin/ledgerlink (\S+)", README)
    assert set(listed) == {"connectors", "validate", "dry-run", "db", "serve", "worker", "runs", "check", "connect",
                            "connections", "sandbox", "demo", "init", "backfill", "export", "reconcile",
                            "schedules", "webhooks", "console"}
    for command in set(listed):
        assert run_subprocess(command, "--help").returncode == 0, command


def test_readme_serve_options_exist(run_subprocess):
    """The options the README gives ``serve`` are ``serve``'s (test_service_cli runs them)."""
    lines = [line for line in README.splitlines() if line.startswith(".venv/bin/ledgerlink serve ")]
    options = {option for line in lines for option in re.findall(r"(--[a-z-]+)", line.split("#")[0])}
    assert {"--max-connections", "--request-timeout", "--idle-timeout"} <= options
    help_text = run_subprocess("serve", "--help").stdout
    for option in options:
        assert option in help_text, option


def test_readme_bench_scripts_exist():
    """Each bench script the README names is in bench/; the governor's, which runs the test
    suite's workload, still imports it and answers --help."""
    named = set(re.findall(r"`bench/(\w+\.py)", README))
    assert "governor.py" in named
    for name in named:
        assert (REPO / "bench" / name).is_file(), name
    result = subprocess.run([sys.executable, str(REPO / "bench" / "governor.py"), "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--scale" in result.stdout and "--pg" in result.stdout
