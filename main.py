"""Entry point: ``python main.py`` runs the bot, ``python main.py doctor`` checks the set-up,
``python main.py sandbox`` starts the local sandbox (also what ``run`` does when no token is set),
``python main.py backup PATH`` writes a consistent copy of the database, ``python main.py health`` says
whether the running bot ticks (Docker's health check).

Exit status: 0 after a stop signal, 1 when the bot stopped on a failure (one line says which and how to fix
it), 2 for a configuration error."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from pathlib import Path

from dotenv import load_dotenv

from bot.config import MISSING_TOKEN_HELP, ConfigError, MissingTokenError, Settings, load_settings

HERE = Path(__file__).resolve().parent
USAGE = "usage: python main.py [run|doctor|sandbox|backup PATH|health]"


def setup_logging(settings: Settings) -> None:
    """Logging at ``LOG_LEVEL``; the token redacted from every output (see bot/redaction.py)."""
    from bot.redaction import Redactor, install

    install(Redactor(settings.bot_token.value, settings.webhook_secret.value), level=settings.log_level)


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
    from bot.factory import run
    from bot.startup import Fatal
    from helpdesk.rules.kb import KnowledgeBaseError
    from helpdesk.school import ProfileError

    try:
        await run(settings)
    except (ProfileError, KnowledgeBaseError) as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except Fatal as exc:
        print(f"Stopped: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        logging.getLogger("main").exception("the bot stopped on an unexpected error")
        print(f"Stopped: an unexpected error ({type(exc).__name__}: {exc}); see the traceback above", file=sys.stderr)
        return 1
    return 0


def _leave(code: int) -> int:
    """Return ``code``, or end the process with it when threads would keep it alive past its end (a
    database thread left open by a failure nobody foresaw): a dead bot must not look alive."""
    sys.stdout.flush()
    sys.stderr.flush()
    lingering = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in lingering:
        thread.join(timeout=3)
    if any(t.is_alive() for t in lingering):
        logging.shutdown()
        os._exit(code)
    return code


def cli(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "run"
    if command in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    if command not in {"run", "doctor", "sandbox", "backup", "health"}:
        print(f"unknown command {command!r}; {USAGE}", file=sys.stderr)
        return 2
    if command == "sandbox":
        return _sandbox(args[1:])
    load_dotenv(HERE / ".env")
    if command == "backup":
        return _backup(args[1:])
    if command == "health":
        return _health()
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
        code = asyncio.run(_run(settings))
    except KeyboardInterrupt:
        code = 0
    return _leave(code)


def _backup(argv: list[str]) -> int:
    """``python main.py backup PATH``: a consistent copy of ``DATABASE_PATH``, safe while the bot runs."""
    import sqlite3

    from bot.config import database_path_from
    from storage.db import backup

    if len(argv) != 1:
        print(f"backup needs one target path; {USAGE}", file=sys.stderr)
        return 2
    target = Path(argv[0])
    try:
        source = database_path_from()
        if target.is_dir():
            target = target / source.name
        if target.resolve() == source.resolve():
            print("backup: the target is the database itself; name another file", file=sys.stderr)
            return 2
        version = backup(source, target)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:
        print(f"backup failed: {exc} (DATABASE_PATH and the target folder must be readable/writable)", file=sys.stderr)
        return 1
    print(f"backup written: {target} (schema version {version}); restore: stop the bot, copy it to DATABASE_PATH")
    return 0


def _health() -> int:
    """``python main.py health`` (Docker's HEALTHCHECK): 0 when the running bot's scheduler ticked lately."""
    import time

    from bot.config import database_path_from
    from bot.jobs import heartbeat_file, heartbeat_limit

    try:
        tick = float(os.environ.get("TICK_SECONDS", "").strip() or "30")
        path = heartbeat_file(database_path_from())
    except (ConfigError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        print(f"unhealthy: no heartbeat at {path} (the bot has not ticked yet)", file=sys.stderr)
        return 1
    if age > heartbeat_limit(tick):
        print(f"unhealthy: the last tick was {age:.0f} s ago (the bot is hung)", file=sys.stderr)
        return 1
    print(f"healthy: the last tick was {age:.0f} s ago")
    return 0


def _sandbox(argv: list[str]) -> int:
    from sandbox.run import run_sandbox

    return run_sandbox(argv)


if __name__ == "__main__":
    raise SystemExit(cli())
