"""``ledgerlink console hash-password NAME``: the line that gives a person a console password.

The password is read from the terminal (asked twice, not echoed) or, when standard input is
not a terminal, from its first line; never from the command line, where ``ps`` and the shell's
history would keep it. What is printed is ``NAME = "$scrypt$…"`` for ``[console.users]`` of
``ledgerlink.toml`` (:mod:`ledgerlink_console.users`); the password itself is never printed.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ledgerlink import hookimpl
from ledgerlink.errors import InvalidRequest
from ledgerlink_console import users


def read_password(stdin=None) -> str:
    """The new password: asked twice on a terminal, else the first line of ``stdin``."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("New console password: ")
        if getpass.getpass("The same again: ") != first:
            raise InvalidRequest("the two passwords differ; run the command again and type the same one twice")
        return first
    line = stdin.readline(users.MAX_PASSWORD + 2)
    return line[:-1] if line.endswith("\n") else line


def hash_password(args: argparse.Namespace) -> int:
    if not users.NAME.fullmatch(args.name):
        raise InvalidRequest(f"a console user's name is 1 to 64 letters, digits, '_' or '-', not {args.name!r}")
    password = read_password().removesuffix("\r")
    problem = users.password_problem(password)
    if problem is not None:
        raise InvalidRequest(f"{problem}; run the command again with another password")
    line = f'{args.name} = "{users.hash_password(password, ln=args.cost)}"'
    print("# paste this line under [console.users] in ledgerlink.toml, then restart serve:", file=sys.stderr)
    print(line)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="console_command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("hash-password", help="the [console.users] line giving NAME a console password",
                       description="Reads a new password (from the terminal, asked twice; or the first line "
                                   "of standard input) and prints NAME = \"<scrypt hash>\" to paste under "
                                   "[console.users] in ledgerlink.toml. The password is never an argument.")
    p.add_argument("name", metavar="NAME", help="the user's name, as they type it to sign in")
    p.add_argument("--cost", type=int, choices=range(14, users.MAX_LN + 1), default=users.LN, metavar="LN",
                   help=f"scrypt's cost N as a power of two, {14} to {users.MAX_LN} (default {users.LN}: "
                        f"128 MiB, the OWASP minimum)")
    p.set_defaults(func=hash_password)


@hookimpl
def ledgerlink_register_commands(register):
    register("console", "the web console's users: hash-password NAME prints the line giving NAME a password",
             configure, lambda args: args.func(args))
