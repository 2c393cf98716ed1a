"""Run the fake Telegram standalone: ``python -m fakegram --port 8081 --token 123:ABC [--forum]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .server import FakeTelegram


async def _run(args: argparse.Namespace) -> None:
    server = FakeTelegram(token=args.token, bot_username=args.bot_username, bot_first_name=args.bot_name)
    staff = [
        server.add_user("Мария", "Иванова", username="maria_admin"),
        server.add_user("Олег", "Смирнов", username="oleg_staff"),
    ]
    parent = server.add_user("Анна", "Петрова")
    group = server.add_group("ЭЖ: помощь (демо)", forum=args.forum, members=staff, admins=staff[:1])
    await server.start(args.host, args.port)
    print(f"fakegram: fake Telegram Bot API on {server.base_url}  (bot @{args.bot_username}, token {args.token})")
    print(f"  staff group id: {group.id}  forum={group.is_forum}")
    print(f"  users: parent {parent.id} ({parent.full_name}); staff {', '.join(f'{u.id} ({u.full_name})' for u in staff)}")
    print("  point the bot at it: TelegramAPIServer.from_base(" + repr(server.base_url) + ")")
    print(f"  e.g. BOT_TOKEN={args.token} TELEGRAM_API_BASE={server.base_url} STAFF_CHAT_ID={group.id}")
    print("  control API: POST /_fake/users, /_fake/groups, /_fake/send, /_fake/press; GET /_fake/messages?chat_id=, /_fake/state")
    print(
        f"  try: curl -s -XPOST {server.base_url}/_fake/send -d '{{\"user_id\": {parent.id}, \"text\": \"/start\"}}'"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fakegram", description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="school_help_bot")
    parser.add_argument("--bot-name", default="Помощник ЭЖ")
    parser.add_argument("--forum", action="store_true", help="make the demo staff group a forum")
    args = parser.parse_args(argv)
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
