"""``ledgerlink_register_commands``: a plugin's subcommand runs like a built-in one, and
never takes a name that is already taken."""

from __future__ import annotations

import pytest

from ledgerlink import cli, hookimpl
from ledgerlink.connectors.manager import build_plugin_manager
from ledgerlink.errors import ConfigError, PluginError


def configure_greet(parser):
    parser.add_argument("name")
    parser.add_argument("--shout", action="store_true")


def greet(args):
    if args.name == "nobody":
        raise ConfigError("nobody has no console configured")
    text = f"hello {args.name}"
    print(text.upper() if args.shout else text)
    return 3 if args.name == "three" else 0


class Greeter:
    @hookimpl
    def ledgerlink_register_commands(self, register):
        register("greet", "say hello", configure_greet, greet)


def plugins(*named):
    return build_plugin_manager(extra=list(named))


def test_a_plugin_command_runs_with_its_own_arguments(capsys):
    pm = plugins(("greeter", Greeter()))
    assert cli.main(["greet", "ada", "--shout"], plugins=pm) == 0
    assert capsys.readouterr().out == "HELLO ADA\n"
    assert cli.main(["greet", "three"], plugins=pm) == 3  # its exit status is the command's
    capsys.readouterr()
    assert cli.main(["greet", "nobody"], plugins=pm) == 1  # a LedgerlinkError as for built-ins
    assert capsys.readouterr().err == "error: nobody has no console configured\n"
    with pytest.raises(SystemExit) as usage:
        cli.main(["greet"], plugins=pm)
    assert usage.value.code == 2 and "the following arguments are required: name" in capsys.readouterr().err
    assert "greet" in cli.build_parser(pm).format_help() and "say hello" in cli.build_parser(pm).format_help()


@pytest.mark.parametrize("name", ["serve", "runs", "secret-key"])
def test_a_plugin_command_cannot_take_a_built_in_name(name):
    class Squatter:
        @hookimpl
        def ledgerlink_register_commands(self, register):
            register(name, "mine now", configure_greet, greet)

    with pytest.raises(PluginError, match=rf"plugin 'squatter': the command '{name}' is already a built-in"):
        cli.build_parser(plugins(("squatter", Squatter())))


def test_two_plugins_cannot_register_the_same_command():
    with pytest.raises(PluginError, match=r"plugin 'second': the command 'greet' is already plugin 'first'"):
        cli.build_parser(plugins(("first", Greeter()), ("second", Greeter())))


def test_a_refused_plugin_command_leaves_the_built_in_commands_working(capsys):
    class Squatter:
        @hookimpl
        def ledgerlink_register_commands(self, register):
            register("serve", "mine now", configure_greet, greet)

    assert cli.main(["secret-key"], plugins=plugins(("squatter", Squatter()))) == 0
    assert len(capsys.readouterr().out.strip()) > 20
    with pytest.raises(SystemExit):
        cli.main(["--help"], plugins=plugins(("squatter", Squatter())))
    assert "plugin commands are unavailable: plugin 'squatter'" in capsys.readouterr().out


def test_a_command_needs_a_name_and_two_functions():
    class Sloppy:
        @hookimpl
        def ledgerlink_register_commands(self, register):
            register("--greet", "bad name", configure_greet, greet)

    with pytest.raises(PluginError, match=r"plugin 'sloppy': a command name is a word"):
        cli.build_parser(plugins(("sloppy", Sloppy())))

    class NoRun:
        @hookimpl
        def ledgerlink_register_commands(self, register):
            register("greet", "no run", configure_greet, None)

    with pytest.raises(PluginError, match=r"plugin 'norun': command 'greet' needs"):
        cli.build_parser(plugins(("norun", NoRun())))
