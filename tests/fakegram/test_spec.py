from __future__ import annotations

import json

import pytest

from fakegram import spec
from fakegram.spec import ApiError, Upload, parse_params


def test_spec_loaded_once_and_cached() -> None:
    a = spec.load_spec()
    assert a is spec.load_spec()
    assert "sendMessage" in a["methods"]
    assert spec.resolve_method("SENDMESSAGE") == "sendMessage"
    assert spec.resolve_method("noSuchMethod") is None


def test_form_values_are_typed() -> None:
    kb = {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}
    res = parse_params(
        "sendMessage",
        {"chat_id": "-1001234567890", "text": "hi", "disable_notification": "true", "reply_markup": json.dumps(kb)},
    )
    assert res.params["chat_id"] == -1001234567890
    assert res.params["disable_notification"] is True
    assert res.params["reply_markup"] == kb
    assert res.warnings == []


def test_username_chat_id_stays_string() -> None:
    assert parse_params("sendMessage", {"chat_id": "@chan", "text": "x"}).params["chat_id"] == "@chan"


@pytest.mark.parametrize(
    ("raw", "description"),
    [
        ({"chat_id": "1"}, "Bad Request: message text is empty"),
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "1", "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": "1", "text": "x", "disable_notification": "maybe"}, 'Bad Request: field "disable_notification" must be of type Boolean'),
        ({"chat_id": "1", "text": "x", "reply_markup": "{oops"}, "Bad Request: can't parse reply keyboard markup JSON object"),
        (
            {"chat_id": "1", "text": "x", "reply_markup": json.dumps({"inline_keyboard": [[{"callback_data": "x"}]]})},
            'Bad Request: can\'t parse inline keyboard button: Can\'t find field "text"',
        ),
        (
            {"chat_id": "1", "text": "x", "reply_markup": json.dumps({"inline_keyboard": [[{"text": "a", "copy_text": "t"}]]})},
            'Bad Request: can\'t parse inline keyboard button: Field "copy_text" must be of type Object',
        ),
    ],
)
def test_rejections(raw: dict[str, str], description: str) -> None:
    with pytest.raises(ApiError) as exc:
        parse_params("sendMessage", raw)
    assert exc.value.status == 400
    assert exc.value.description == description


def test_unknown_parameter_is_a_warning() -> None:
    res = parse_params("sendMessage", {"chat_id": "1", "text": "x", "brand_new_param": "1"})
    assert any("brand_new_param" in w for w in res.warnings)


def test_input_file_attach_and_direct() -> None:
    up = Upload("a.pdf", b"data")
    assert parse_params("sendDocument", {"chat_id": "1", "document": "attach://f1"}, {"f1": up}).params["document"] is up
    assert parse_params("sendDocument", {"chat_id": "1", "document": up}, {"document": up}).params["document"] is up
    with pytest.raises(ApiError, match="there is no document in the request"):
        parse_params("sendDocument", {"chat_id": "1"})


def test_media_group_subtypes_validated() -> None:
    media = [{"type": "photo", "media": "attach://a"}, {"type": "document", "media": "x"}]
    res = parse_params("sendMediaGroup", {"chat_id": "1", "media": json.dumps(media)})
    assert res.params["media"][0]["type"] == "photo"
    with pytest.raises(ApiError, match="Can't find field \"media\""):
        parse_params("sendMediaGroup", {"chat_id": "1", "media": json.dumps([{"type": "photo"}])})


def test_check_object_reports_missing_fields() -> None:
    problems = spec.check_object("Message", {"message_id": 1, "chat": {"id": 1}})
    assert "Message.date: required field missing" in problems
    assert "Message.chat.type: required field missing" in problems
