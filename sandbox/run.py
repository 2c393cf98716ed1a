"""Start the sandbox the way ``make run`` does without a token: print the address, serve until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import webbrowser
from pathlib import Path

from aiohttp import web

from bot.config import ROOT

from .core import Sandbox
from .web import create_web_app

DEFAULT_PORT = 8080
DEFAULT_DATABASE = ROOT / "data" / "sandbox.sqlite3"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python main.py sandbox",
        description="The help desk in a local sandbox: the bot, a fake Telegram and a web page on 127.0.0.1.",
    )
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT") or DEFAULT_PORT))
    parser.add_argument(
        "--plain", action="store_true", help="a staff group without topics (replies to cards)"
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("SANDBOX_DATABASE") or DEFAULT_DATABASE),
        help="the sandbox's own SQLite file, emptied at each start",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    return parser.parse_args(argv)


def _should_open_browser(args: argparse.Namespace) -> bool:
    if args.no_browser or not sys.stdout.isatty():
        return False
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


async def _start_site(runner: web.AppRunner, host: str, port: int) -> int:
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        print(f"port {port} is busy, taking a free one", file=sys.stderr)
        site = web.TCPSite(runner, host, 0)
        await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else port


async def serve(args: argparse.Namespace) -> int:
    sandbox = Sandbox(database_path=args.database, forum=not args.plain)
    await sandbox.start()
    runner = web.AppRunner(create_web_app(sandbox, hosts=[args.host]), access_log=None, shutdown_timeout=2)
    await runner.setup()
    try:
        port = await _start_site(runner, args.host, args.port)
    except OSError as exc:
        print(f"the sandbox can't listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        await sandbox.stop()
        await runner.cleanup()
        return 2
    url = f"http://{args.host}:{port}/"
    print(
        f"\nSandbox: open {url} in a browser (local only: nothing is sent to Telegram). Ctrl+C stops it.\n",
        flush=True,
    )
    if _should_open_browser(args):
        with contextlib.suppress(Exception):
            webbrowser.open(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        sandbox.closing = True
        sandbox.notify()
        await runner.cleanup()
        await sandbox.stop()
    print("Sandbox stopped.", flush=True)
    return 0


def run_sandbox(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per update is noise next to a page that shows every message.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
