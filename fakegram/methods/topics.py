"""Forum topics: createForumTopic, editForumTopic, closeForumTopic, reopenForumTopic, deleteForumTopic."""

from __future__ import annotations

from typing import Any

from ..spec import bad_request
from ..state import FakeChat
from .base import BotApi
from .registry import JsonDict, Request, method

TOPIC_NAME_LIMIT = 128


def _forum(api: BotApi, p: JsonDict, right_error: str) -> FakeChat:
    chat = api.target_chat(api.require(p, "chat_id"))
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not api.w.bot_can(chat, "can_manage_topics"):
        raise bad_request(right_error)
    return chat


def _topic(api: BotApi, chat: FakeChat, p: JsonDict) -> Any:
    tid = p.get("message_thread_id")
    topic = chat.live_topic(int(tid)) if tid is not None else None
    if topic is None:
        raise bad_request("message thread not found")
    return topic


def _topic_name(name: Any) -> str:
    value = str(name or "").strip()
    if not value:
        raise bad_request("name is empty")
    if len(value) > TOPIC_NAME_LIMIT:
        raise bad_request("topic name is too long (TOPIC_TITLE_TOO_LONG)")
    return value


def _topic_service(api: BotApi, chat: FakeChat, thread_id: int, content: JsonDict) -> None:
    api.w.store_message(chat, api.w.bot, from_bot=True, kind="service", content=content, thread_id=thread_id)


@method("createForumTopic")
def create_forum_topic(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    chat = _forum(api, p, "not enough rights to create a topic")
    name = _topic_name(p.get("name"))
    icon_color = int(p.get("icon_color") or 7322096)
    topic = api.w.create_topic(chat, name, icon_color, p.get("icon_custom_emoji_id"))
    return topic.to_dict()


@method("editForumTopic")
def edit_forum_topic(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = _forum(api, p, "not enough rights to edit a topic")
    topic = _topic(api, chat, p)
    changes: JsonDict = {}
    if p.get("name") is not None:
        name = _topic_name(p["name"])
        if name != topic.name:
            changes["name"] = name
    if p.get("icon_custom_emoji_id") is not None and p["icon_custom_emoji_id"] != (topic.icon_custom_emoji_id or ""):
        changes["icon_custom_emoji_id"] = p["icon_custom_emoji_id"]
    if not changes:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = changes.get("name", topic.name)
    if "icon_custom_emoji_id" in changes:
        topic.icon_custom_emoji_id = changes["icon_custom_emoji_id"] or None
    _topic_service(api, chat, topic.thread_id, {"forum_topic_edited": changes})
    return True


@method("closeForumTopic")
def close_forum_topic(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = _forum(api, p, "not enough rights to close a topic")
    topic = _topic(api, chat, p)
    if topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = True
    _topic_service(api, chat, topic.thread_id, {"forum_topic_closed": {}})
    return True


@method("reopenForumTopic")
def reopen_forum_topic(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = _forum(api, p, "not enough rights to reopen a topic")
    topic = _topic(api, chat, p)
    if not topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = False
    _topic_service(api, chat, topic.thread_id, {"forum_topic_reopened": {}})
    return True


@method("deleteForumTopic")
def delete_forum_topic(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = _forum(api, p, "not enough rights to delete a topic")
    topic = _topic(api, chat, p)
    topic.deleted = True
    for msg in chat.messages.values():
        if msg.thread_id == topic.thread_id and msg.raw.get("is_topic_message"):
            msg.deleted = True
    api.w.bump()
    return True
