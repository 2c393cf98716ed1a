"""Chats, members and pins: getChat, getChatMember, getChatAdministrators, getChatMemberCount, leaveChat,
pinChatMessage, unpinChatMessage, unpinAllChatMessages."""

from __future__ import annotations

from ..spec import bad_request
from .base import BotApi
from .registry import JsonDict, Request, method


@method("getChat")
def get_chat(api: BotApi, req: Request) -> JsonDict:
    chat = api.visible_chat(api.require(req.params, "chat_id"))
    info = chat.to_dict()
    info.update(
        {
            "accent_color_id": abs(chat.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
    )
    if chat.pinned:
        pinned = api.w.find_message(chat, chat.pinned[-1])
        if pinned is not None:
            info["pinned_message"] = api.w.shallow(pinned.raw)
    if not chat.is_private:
        info["permissions"] = {
            "can_send_messages": True,
            "can_send_audios": True,
            "can_send_documents": True,
            "can_send_photos": True,
            "can_send_videos": True,
            "can_send_video_notes": True,
            "can_send_voice_notes": True,
            "can_send_polls": True,
            "can_send_other_messages": True,
            "can_add_web_page_previews": True,
            "can_change_info": False,
            "can_invite_users": True,
            "can_pin_messages": False,
            "can_manage_topics": False,
        }
    return info


@method("getChatMember")
def get_chat_member(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    chat = api.visible_chat(api.require(p, "chat_id"))
    uid = int(p["user_id"])
    user = api.w.bot if uid == api.w.bot.id else api.w.users.get(uid)
    if user is None:
        raise bad_request("user not found")
    return api.member_dict(chat, user)


@method("getChatAdministrators")
def get_chat_administrators(api: BotApi, req: Request) -> list[JsonDict]:
    chat = api.visible_chat(api.require(req.params, "chat_id"))
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    out = []
    if chat.owner_id is not None and chat.owner_id in api.w.users:
        out.append(api.member_dict(chat, api.w.users[chat.owner_id]))
    for uid in chat.admins:
        if uid in api.w.users:
            out.append(api.member_dict(chat, api.w.users[uid]))
    if chat.bot_status == "administrator":
        out.append(api.member_dict(chat, api.w.bot))
    return out


@method("getChatMemberCount")
def get_chat_member_count(api: BotApi, req: Request) -> int:
    chat = api.visible_chat(api.require(req.params, "chat_id"))
    if chat.is_private:
        return 2
    return len(chat.members) + (1 if api.w.bot_in(chat) else 0)


@method("leaveChat")
def leave_chat(api: BotApi, req: Request) -> bool:
    chat = api.visible_chat(api.require(req.params, "chat_id"))
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    chat.bot_status = "left"
    return True


@method("pinChatMessage")
def pin_chat_message(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = api.target_chat_for_edit(api.require(p, "chat_id"))
    msg = api.message_in(chat, p.get("message_id"), "pin")
    if not chat.is_private and not api.w.bot_can(chat, "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    if msg.message_id in chat.pinned:
        chat.pinned.remove(msg.message_id)
    chat.pinned.append(msg.message_id)
    return True


@method("unpinChatMessage")
def unpin_chat_message(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = api.target_chat_for_edit(api.require(p, "chat_id"))
    if not chat.is_private and not api.w.bot_can(chat, "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    mid = p.get("message_id")
    if mid is None:
        if chat.pinned:
            chat.pinned.pop()
        return True
    if int(mid) in chat.pinned:
        chat.pinned.remove(int(mid))
        return True
    raise bad_request("message to unpin not found")


@method("unpinAllChatMessages")
def unpin_all_chat_messages(api: BotApi, req: Request) -> bool:
    chat = api.target_chat_for_edit(api.require(req.params, "chat_id"))
    if not chat.is_private and not api.w.bot_can(chat, "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    chat.pinned.clear()
    return True
