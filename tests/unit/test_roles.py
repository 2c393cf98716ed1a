"""The roles rule (who may do what) and the profile's [management] section."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.rules.roles import ANONYMOUS_ADMIN_ID, MANAGEMENT_ACTIONS, Action, Person, Verdict, decide
from helpdesk.rules.seminars import link_domains
from helpdesk.school import Management, ProfileError, load_profile

EXAMPLE = Path(__file__).resolve().parents[2] / "school.example.toml"
BOARD = Management(ids=frozenset({111}), usernames=frozenset({"petrova_as"}))
STAFF_ACTIONS = [a for a in Action if a not in MANAGEMENT_ACTIONS]


@pytest.mark.parametrize("action", list(Action))
def test_management_named_by_id_or_username_may_do_everything(action: Action) -> None:
    assert decide(Person(111), action, BOARD, None) is Verdict.ALLOWED
    assert decide(Person(5, "Petrova_AS"), action, BOARD, None) is Verdict.ALLOWED


@pytest.mark.parametrize("action", sorted(MANAGEMENT_ACTIONS))
def test_a_staff_member_or_admin_not_named_is_refused_management_actions(action: Action) -> None:
    assert decide(Person(5, "ivanov", staff_member=True), action, BOARD, None) is Verdict.NOT_MANAGEMENT
    # The manager chat being a group does not make its members management.
    assert decide(Person(5, staff_member=True), action, BOARD, -100123) is Verdict.NOT_MANAGEMENT


@pytest.mark.parametrize("action", STAFF_ACTIONS)
def test_staff_members_may_do_staff_actions_and_strangers_may_not(action: Action) -> None:
    assert decide(Person(5, staff_member=True), action, BOARD, None) is Verdict.ALLOWED
    assert decide(Person(5), action, BOARD, None) is Verdict.NOT_STAFF


def test_the_person_whose_private_chat_is_the_manager_chat_is_management() -> None:
    assert decide(Person(42), Action.INVITE, Management(), 42) is Verdict.ALLOWED
    assert decide(Person(43), Action.INVITE, Management(), 42) is Verdict.NOT_MANAGEMENT


def test_an_anonymous_administrator_is_never_management() -> None:
    board = Management(ids=frozenset({ANONYMOUS_ADMIN_ID}))
    assert decide(Person(ANONYMOUS_ADMIN_ID), Action.ANNOUNCE, board, None) is Verdict.NOT_MANAGEMENT
    assert decide(Person(None), Action.UNBLOCK, board, None) is Verdict.NOT_MANAGEMENT


def _profile(tmp_path: Path, section: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace("[management]\nmembers = []\ninvite_hours = 72\n", section)
    path = tmp_path / "school.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_profile_management_section(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path, '[management]\nmembers = [123, "@Petrova_AS"]\ninvite_hours = 24\n'))
    assert profile.management == Management(frozenset({123}), frozenset({"petrova_as"}), 24)
    assert load_profile(EXAMPLE).management == Management()


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('[management]\nmembers = ["@a b"]\n', "neither a Telegram id"),
        ("[management]\nmembers = 5\n", '"members" must be a list'),
        ("[management]\ninvite_hours = 0\n", "invite_hours"),
        ("[management]\nmember = []\n", 'did you mean "members"'),
    ],
)
def test_profile_management_errors_name_the_line(tmp_path: Path, section: str, problem: str) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(_profile(tmp_path, section))
    text = str(info.value)
    assert problem in text and text.startswith(f"{tmp_path / 'school.toml'}:"), text


def test_link_domains_of_a_broadcast() -> None:
    assert link_domains("Тема; https://evil.example/login; родители") == ["evil.example"]
    assert link_domains("каб. 21, т.е. школа") == []
    assert sorted(link_domains("sсhool.ru и school.ru/x и https://SCHOOL.ru")) == [
        "school.ru",
        "sсhool.ru (xn--shool-1ye.ru)",
    ]
