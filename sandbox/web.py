"""The sandbox page: static files, a JSON API for the visitor's actions and a Server-Sent Events stream.

GET  /                  the page (sandbox/static/index.html)
GET  /api/state         the whole visible state (what the first SSE event carries)
GET  /api/events        SSE: ``state`` (full, on connect and after a reset), then ``patch`` (changed messages,
                        chats, clock, status)
GET  /media/{file_id}   a photo or document stored by the fake server
POST /api/send          multipart or JSON: user_id, chat_id, text, thread_id?, reply_to?, file?
POST /api/press         JSON: user_id, chat_id, message_id, data
POST /api/users         JSON: first_name, last_name?
POST /api/clock         JSON: preset | moment | advance_minutes | real
POST /api/restart       restart the bot (same world, same database)
POST /api/reset         JSON: forum? - start over with an empty desk

The sandbox is a local page, and a web page elsewhere must not drive it: a request whose ``Host`` is not the
sandbox's own (DNS rebinding) is refused, and so is a state-changing one whose ``Origin`` is another site
(cross-site POSTs: a page could reset the desk or post as staff). Uploaded files are served as attachments,
never rendered by the browser as pages (an SVG carries scripts).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from .core import Sandbox, SandboxError

STATIC = Path(__file__).resolve().parent / "static"
SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
MAX_UPLOAD = 20 * 1024 * 1024
KEEPALIVE_SECONDS = 15.0

JsonDict = dict[str, Any]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"", "0.0.0.0", "::"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Shown by the browser as they are; anything else (SVG and HTML included) is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=_dump(data), status=status, content_type="application/json")


def _int(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value in (None, "") and optional:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SandboxError(f"{name} must be a number") from None


async def _body(request: web.Request) -> JsonDict:
    if request.content_type != "application/json":
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise SandboxError("a JSON body is expected") from None
    return data if isinstance(data, dict) else {}


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except SandboxError as exc:
        return _json({"ok": False, "error": str(exc)}, status=400)


def _same_site_guard(hosts: Iterable[str]) -> Any:
    """A middleware refusing requests that are not the sandbox's own page talking to it."""
    allowed = {h.strip("[]").lower() for h in hosts} | LOOPBACK
    any_host = bool(allowed & WILDCARD)

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        host = request.host
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not any_host and name.strip("[]").lower() not in allowed:
            return _json({"ok": False, "error": "not this sandbox's address"}, status=403)
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("Origin")
            fetch_site = request.headers.get("Sec-Fetch-Site", "same-origin")
            if (origin is not None and origin != f"{request.scheme}://{host}") or fetch_site not in {
                "same-origin",
                "none",
            }:
                return _json({"ok": False, "error": "requests from other sites are refused"}, status=403)
        response: web.StreamResponse = await handler(request)
        return response

    return guard


def _diff(previous: dict[str, str], items: list[JsonDict], key: Any) -> list[JsonDict]:
    changed = []
    for item in items:
        k = key(item)
        dumped = _dump(item)
        if previous.get(k) != dumped:
            previous[k] = dumped
            changed.append(item)
    return changed


def create_web_app(sandbox: Sandbox, *, hosts: Iterable[str] = ()) -> web.Application:
    """The sandbox's web app; ``hosts``: the names it is reached by besides the loopback ones (the address
    it listens on; a wildcard address accepts any ``Host``, the ``Origin`` check stays)."""
    app = web.Application(middlewares=[_same_site_guard(hosts), _errors], client_max_size=MAX_UPLOAD)
    app[SANDBOX_KEY] = sandbox

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def state(request: web.Request) -> web.Response:
        return _json(sandbox.snapshot())

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        changed = sandbox.watch()
        generation: int | None = None
        sent_messages: dict[str, str] = {}
        sent_chats: dict[str, str] = {}
        sent_meta = ""
        try:
            while not sandbox.closing:
                try:
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                changed.clear()
                snap = sandbox.snapshot()
                if snap["generation"] != generation:
                    generation = snap["generation"]
                    sent_messages.clear()
                    sent_chats.clear()
                    _diff(sent_messages, snap["messages"], lambda m: f"{m['chat_id']}:{m['message_id']}")
                    _diff(sent_chats, snap["chats"], lambda c: str(c["id"]))
                    payload = _dump(snap)
                    sent_meta = _dump({k: v for k, v in snap.items() if k not in ("messages", "chats")})
                    await response.write(f"event: state\ndata: {payload}\n\n".encode())
                else:
                    meta = {k: v for k, v in snap.items() if k not in ("messages", "chats")}
                    patch: JsonDict = {
                        "messages": _diff(
                            sent_messages, snap["messages"], lambda m: f"{m['chat_id']}:{m['message_id']}"
                        ),
                        "chats": _diff(sent_chats, snap["chats"], lambda c: str(c["id"])),
                    }
                    dumped_meta = _dump(meta)
                    if dumped_meta != sent_meta:
                        sent_meta = dumped_meta
                        patch["meta"] = meta
                    if patch["messages"] or patch["chats"] or "meta" in patch:
                        await response.write(f"event: patch\ndata: {_dump(patch)}\n\n".encode())
                # Let a burst of changes (a bot answer is several calls) arrive as one patch.
                await asyncio.sleep(0.05)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            sandbox.unwatch(changed)
        return response

    async def media(request: web.Request) -> web.Response:
        data, mime = sandbox.file(request.match_info["file_id"])
        # An attachment, not a page: opened directly it is downloaded, never rendered (an <img> still shows
        # a photo); no sniffing, no scripts even if a browser did render it.
        headers = {
            "Cache-Control": "max-age=3600",
            "Content-Disposition": "attachment",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }
        if mime not in INLINE_TYPES:
            mime = "application/octet-stream"
        return web.Response(body=data, content_type=mime, headers=headers)

    async def send(request: web.Request) -> web.Response:
        fields: JsonDict = {}
        file: tuple[str, bytes, str | None] | None = None
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = bytes(await part.read(decode=False))
                    if data:
                        file = (part.filename, data, part.headers.get("Content-Type"))
                else:
                    fields[part.name] = await part.text()
        else:
            fields = await _body(request)
        msg = await sandbox.send(
            user_id=_int(fields.get("user_id"), "user_id") or 0,
            chat_id=_int(fields.get("chat_id"), "chat_id") or 0,
            text=str(fields.get("text") or ""),
            thread_id=_int(fields.get("thread_id"), "thread_id", optional=True),
            reply_to=_int(fields.get("reply_to"), "reply_to", optional=True),
            file=file,
        )
        return _json({"ok": True, "message_id": msg.message_id})

    async def press(request: web.Request) -> web.Response:
        d = await _body(request)
        answer = await sandbox.press(
            user_id=_int(d.get("user_id"), "user_id") or 0,
            chat_id=_int(d.get("chat_id"), "chat_id") or 0,
            message_id=_int(d.get("message_id"), "message_id") or 0,
            data=str(d.get("data") or ""),
        )
        return _json({"ok": True, "text": answer.text, "show_alert": answer.show_alert, "url": answer.url})

    async def users(request: web.Request) -> web.Response:
        d = await _body(request)
        person = sandbox.add_user(str(d.get("first_name") or ""), d.get("last_name"))
        return _json({"ok": True, "person": person.to_json()})

    async def clock(request: web.Request) -> web.Response:
        d = await _body(request)
        advance = d.get("advance_minutes")
        sandbox.set_clock(
            preset=d.get("preset"),
            moment=d.get("moment"),
            advance_minutes=float(advance) if advance is not None else None,
            real=bool(d.get("real")),
        )
        return _json({"ok": True})

    async def restart(request: web.Request) -> web.Response:
        await sandbox.restart_bot()
        return _json({"ok": True, "status": sandbox.status})

    async def reset(request: web.Request) -> web.Response:
        d = await _body(request)
        forum = d.get("forum")
        await sandbox.reset(forum=None if forum is None else bool(forum))
        return _json({"ok": True})

    async def fill_history(request: web.Request) -> web.Response:
        count = await sandbox.fill_history()
        return _json({"ok": True, "tickets": count})

    async def on_shutdown(app: web.Application) -> None:
        sandbox.closing = True
        sandbox.notify()

    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/events", events)
    app.router.add_get("/media/{file_id}", media)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/users", users)
    app.router.add_post("/api/clock", clock)
    app.router.add_post("/api/restart", restart)
    app.router.add_post("/api/reset", reset)
    app.router.add_post("/api/history", fill_history)
    app.on_shutdown.append(on_shutdown)
    return app
