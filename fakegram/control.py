"""A small JSON control API under ``/_fake/`` for manual runs and browser sandboxes.

POST /_fake/users     {first_name, last_name?, username?, language_code?}     -> user
POST /_fake/groups    {title, forum?, member_ids?, admin_ids?}                 -> chat
POST /_fake/send      {user_id, chat_id?, text?, thread_id?, reply_to?}        -> message
POST /_fake/press     {user_id, chat_id, message_id, data}                     -> callback answer
GET  /_fake/messages?chat_id=..[&thread_id=..]                                 -> messages
GET  /_fake/state                                                              -> snapshot
GET  /_fake/calls?limit=100                                                    -> recent Bot API calls
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .state import Msg

if TYPE_CHECKING:
    from .server import FakeTelegram

JsonDict = dict[str, Any]


def msg_json(m: Msg) -> JsonDict:
    return {
        "message_id": m.message_id,
        "chat_id": m.chat_id,
        "thread_id": m.thread_id,
        "from_bot": m.from_bot,
        "kind": m.kind,
        "text": m.text,
        "caption": m.caption,
        "html": m.html,
        "entities": m.entities,
        "buttons": [list(b) for b in m.buttons],
        "reply_to_message_id": m.reply_to_message_id,
        "file_name": m.file_name,
        "deleted": m.deleted,
        "edits": m.edits,
        "raw": m.raw,
    }


def _ok(data: Any) -> web.Response:
    return web.Response(text=json.dumps({"ok": True, "result": data}, ensure_ascii=False), content_type="application/json")


def _err(status: int, text: str) -> web.Response:
    return web.Response(
        text=json.dumps({"ok": False, "error": text}, ensure_ascii=False), status=status, content_type="application/json"
    )


def add_control_routes(app: web.Application, server: FakeTelegram) -> None:
    async def body(request: web.Request) -> JsonDict:
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def users(request: web.Request) -> web.Response:
        d = await body(request)
        user = server.add_user(
            first_name=str(d.get("first_name") or "Гость"),
            last_name=d.get("last_name"),
            username=d.get("username"),
            language_code=d.get("language_code", "ru"),
        )
        return _ok(user.to_dict())

    async def groups(request: web.Request) -> web.Response:
        d = await body(request)
        members = [server.users[int(i)] for i in d.get("member_ids", []) if int(i) in server.users]
        admins = [server.users[int(i)] for i in d.get("admin_ids", []) if int(i) in server.users]
        chat = server.add_group(str(d.get("title") or "Группа"), bool(d.get("forum")), members, admins)
        return _ok(chat.to_dict())

    async def send(request: web.Request) -> web.Response:
        d = await body(request)
        try:
            user = server.users[int(d["user_id"])]
            chat = server.chats[int(d.get("chat_id") or user.id)]
        except (KeyError, ValueError, TypeError):
            return _err(404, "unknown user_id/chat_id")
        actor = server.actor(user, chat=None if chat.is_private else chat)
        reply = server.get_message(chat, int(d["reply_to"])) if d.get("reply_to") else None
        try:
            if d.get("photo"):
                msg = await actor.send_photo(caption=d.get("text"), thread_id=d.get("thread_id"))
            else:
                msg = await actor.send(str(d.get("text") or ""), thread_id=d.get("thread_id"), reply_to=reply)
        except AssertionError as e:
            return _err(400, str(e))
        return _ok(msg_json(msg))

    async def press(request: web.Request) -> web.Response:
        d = await body(request)
        try:
            user = server.users[int(d["user_id"])]
            chat = server.chats[int(d["chat_id"])]
            msg = server.get_message(chat, int(d["message_id"]))
        except (KeyError, ValueError, TypeError):
            return _err(404, "unknown user_id/chat_id/message_id")
        if msg is None:
            return _err(404, "message not found")
        actor = server.actor(user, chat=None if chat.is_private else chat)
        try:
            ans = await actor.press_data(msg, str(d.get("data", "")), timeout=float(d.get("timeout", 5)))
        except AssertionError as e:
            return _err(504, str(e))
        return _ok({"text": ans.text, "show_alert": ans.show_alert, "url": ans.url})

    async def messages(request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
            thread = request.query.get("thread_id")
            msgs = server.chat_messages(chat_id, int(thread) if thread else None)
        except (KeyError, ValueError):
            return _err(404, "unknown chat_id")
        return _ok([msg_json(m) for m in msgs])

    async def state(request: web.Request) -> web.Response:
        return _ok(server.state())

    async def calls(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "100"))
        return _ok(
            [
                {"method": c.method, "params": c.params, "ok": c.ok, "error": c.error, "status": c.status, "at": c.at}
                for c in server.calls[-limit:]
            ]
        )

    app.router.add_post("/_fake/users", users)
    app.router.add_post("/_fake/groups", groups)
    app.router.add_post("/_fake/send", send)
    app.router.add_post("/_fake/press", press)
    app.router.add_get("/_fake/messages", messages)
    app.router.add_get("/_fake/state", state)
    app.router.add_get("/_fake/calls", calls)
