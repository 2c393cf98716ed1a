"""Files: getFile, getUserProfilePhotos."""

from __future__ import annotations

from ..spec import bad_request
from .base import BotApi
from .registry import JsonDict, Request, method


@method("getFile")
def get_file(api: BotApi, req: Request) -> JsonDict:
    rec = api.w.files.get(str(req.params["file_id"]).strip())
    if rec is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if rec.file_size > 20 * 1024 * 1024:
        raise bad_request("file is too big")
    return {
        "file_id": rec.file_id,
        "file_unique_id": rec.file_unique_id,
        "file_size": rec.file_size,
        "file_path": rec.file_path,
    }


@method("getUserProfilePhotos")
def get_user_profile_photos(api: BotApi, req: Request) -> JsonDict:
    uid = int(req.params["user_id"])
    if uid not in api.w.users and uid != api.w.bot.id:
        raise bad_request("user not found")
    return {"total_count": 0, "photos": []}
