"""Entry point: ``python main.py`` runs the bot, ``python main.py doctor`` checks the set-up,
``python main.py sandbox`` starts the local sandbox (also what ``run`` does when no token is set)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

from bot.config import MISSING_TOKEN_HELP, ConfigError, MissingTokenError, Settings, load_settings

HERE = Path(__file__).resolve().parent


class _RedactToken(logging.Filter):
    """Belt and braces: no log line ever carries the token (aiohttp errors may quote URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "***")
                record.args = ()
        return True


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact = _RedactToken(settings.bot_token.value)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def read_settings() -> Settings | None:
    load_dotenv(HERE / ".env")
    try:
        return load_settings()
    except MissingTokenError as exc:
        print(exc, file=sys.stderr)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
    return None


async def _run(settings: Settings) -> int:
    from bot.factory import create_app, run
    from helpdesk.rules.kb import KnowledgeBaseError
    from helpdesk.school import ProfileError

    try:
        app = await create_app(settings)
    except (ProfileError, KnowledgeBaseError) as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    await run(app)
    return 0


def cli(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "run"
    if command in {"-h", "--help", "help"}:
        print("usage: python main.py [run|doctor|sandbox]")
        return 0
    if command not in {"run", "doctor", "sandbox"}:
        print(f"unknown command {command!r}; usage: python main.py [run|doctor|sandbox]", file=sys.stderr)
        return 2
    if command == "sandbox":
        return _sandbox(args[1:])
    load_dotenv(HERE / ".env")
    if command == "run" and not os.environ.get("BOT_TOKEN", "").strip():
        # A fresh clone has no token: show the help desk working locally instead of stopping.
        print(f"Hint: {MISSING_TOKEN_HELP}", file=sys.stderr)
        print("Without a token, the local sandbox starts instead.", file=sys.stderr)
        return _sandbox(args[1:])
    settings = read_settings()
    if settings is None:
        return 2
    setup_logging(settings)
    if command == "doctor":
        from bot.doctor import run_doctor

        return asyncio.run(run_doctor(settings))
    try:
        return asyncio.run(_run(settings))
    except KeyboardInterrupt:
        return 0


def _sandbox(argv: list[str]) -> int:
    from sandbox.run import run_sandbox

    return run_sandbox(argv)


if __name__ == "__main__":
    raise SystemExit(cli())
