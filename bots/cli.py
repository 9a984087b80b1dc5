"""The `switchboard` command: `chat` in a terminal, `run` the platform adapters."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys

from adapters.terminal import HELP, Terminal
from bots import logs
from bots.platforms import serve
from bots.wiring import open_core
from core.errors import ConfigError
from core.settings import CoreSettings, load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default=_default_user(), help="who you are (default: login name)")
    run = commands.add_parser("run", help="serve the configured platforms")
    run.add_argument("platforms", nargs="*", help="http, slack, telegram, discord (default: all "
                     "configured)")
    token = commands.add_parser("token", help="print a bearer token for the HTTP API")
    token.add_argument("--user", required=True, help="the token's subject (who it is for)")
    token.add_argument("--ttl", default="30m", help="lifetime like 90s, 30m, 12h, 7d (default 30m)")
    return parser


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "you"


async def _chat(settings: CoreSettings, user: str) -> None:
    interactive = sys.stdin.isatty()
    logging.getLogger("switchboard.turn").setLevel(logging.WARNING)
    async with open_core(settings) as service:
        terminal = Terminal(service, user, sys.stdout, interactive)
        if interactive:
            terminal.say(f"Switchboard, talking with {user}. {HELP}")
        while True:
            if interactive:
                print("you> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.buffer.readline)
            if not line or not await terminal.handle(line):
                return


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load(CoreSettings)
        logs.setup(settings.log_level, form=settings.log_format)
        if args.command == "chat":
            asyncio.run(_chat(settings, args.user))
        elif args.command == "token":
            from bots.http import token  # imported here: FastAPI is not needed for `chat`

            print(token(args.user, args.ttl))
        else:
            asyncio.run(serve(settings, args.platforms))
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
