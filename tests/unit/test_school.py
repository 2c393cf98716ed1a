"""The school profile loader: the example loads, bad files name the line and the problem."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from helpdesk.domain import Category, Role, Topic
from helpdesk.school import (
    ChangeKind,
    ProfileError,
    SpecialistKind,
    load_profile,
    parse_weekday,
)

ROOT = Path(__file__).resolve().parents[2]

HEAD = """\
[school]
name = "Школа"
short_name = "СОШ"
phone = "(86550) 93-464"
email = "kazmschool@mail.ru"

[vendor]
name = "Поддержка"
hours = "Пн–Пт 9–18"
rules = "Через администратора"
prepare = ["логин", "скриншот"]

[[specialists]]
key = "tech"
name = "Иванов Иван Иванович"
short_name = "Иванов И. И."
kind = "tech"

[[specialists]]
key = "zam1"
name = "Петрова Анна Сергеевна"
short_name = "Петрова А. С."
kind = "deputy"
"""  # 24 lines


def write(tmp_path: Path, text: str, name: str = "school.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    return message


def line_of(text: str, needle: str) -> int:
    for no, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return no
    raise AssertionError(needle)


def test_example_profile_loads() -> None:
    profile = load_profile(ROOT / "school.example.toml")
    assert profile.phone == "(86550) 93-464"
    assert profile.email == "kazmschool@mail.ru"
    assert "16" in profile.short_name
    kinds = [s.kind for s in profile.specialists]
    assert kinds.count(SpecialistKind.DEPUTY) == 2
    assert kinds.count(SpecialistKind.TECH) == 1
    assert kinds.count(SpecialistKind.TEACHER) == 2
    assert profile.slots and profile.holidays and profile.changes
    assert profile.vendor.prepare and profile.vendor.reminder_days > 0
    titles = " ".join(h.title for h in profile.holidays)
    for word in ("осенние", "зимние", "весенние"):
        assert word in titles
    assert profile.tz.key == "Europe/Moscow"
    # the technical specialist takes login questions, wrote it in Russian
    tech = profile.specialist("tech")
    assert tech.handles(Role.PARENT, Topic.DIARY, Category.LOGIN)
    assert not tech.handles(Role.PARENT, Topic.DIARY, Category.GRADES)
    assert profile.manager_of("tech") is not None


def test_minimal_profile_and_defaults(tmp_path: Path) -> None:
    text = (
        HEAD
        + """
[[slots]]
days = ["пн", "Wed"]
start = "14:00"
end = "16:00"
specialist = "tech"

[[slots]]
day = "вт"
start = 15:00:00
end = "17:00"
specialist = "zam1"

[[holidays]]
date = 2026-11-04
title = "праздник"

[[holidays]]
start = "28.12.2026"
end = 2027-01-11
title = "зимние каникулы"

[[changes]]
date = 2026-12-01
kind = "substitute"
specialist = "zam1"
substitute = "tech"
"""
    )
    profile = load_profile(write(tmp_path, text))
    assert [(s.weekday, s.start, s.end, s.specialist) for s in profile.slots] == [
        (0, time(14), time(16), "tech"),
        (2, time(14), time(16), "tech"),
        (1, time(15), time(17), "zam1"),
    ]
    assert profile.holidays[0].start == profile.holidays[0].end == date(2026, 11, 4)
    assert profile.holidays[1].start == date(2026, 12, 28)
    assert profile.changes[0].kind is ChangeKind.SUBSTITUTE
    assert profile.timezone is None and profile.tz.key == "Europe/Moscow"
    assert profile.specialist("zam1").categories is None  # silent: defaults by kind
    assert profile.vendor.reminder_days == 3


def test_aliases_for_topics_categories_roles(tmp_path: Path) -> None:
    text = (
        HEAD
        + """topics = ["дневник"]
categories = ["оценки", "ДЗ", "att"]
roles = ["родитель", "stu"]
"""
    )
    spec = load_profile(write(tmp_path, text)).specialist("zam1")
    assert spec.topics == frozenset({Topic.DIARY})
    assert spec.categories == frozenset({Category.GRADES, Category.HOMEWORK, Category.ATTENDANCE})
    assert spec.roles == frozenset({Role.PARENT, Role.STUDENT})


def test_empty_list_means_all(tmp_path: Path) -> None:
    spec = load_profile(write(tmp_path, HEAD + "categories = []\n")).specialist("zam1")
    assert spec.handles(Role.STUDENT, Topic.DIARY, Category.LOGIN)


@pytest.mark.parametrize("day", ["пн", "Пн", "mon", "Monday", "понедельник"])
def test_weekday_names(day: str) -> None:
    assert parse_weekday(day) == 0


def test_sunday_and_unknown_weekday() -> None:
    assert parse_weekday("вс") == parse_weekday("sun") == 6
    assert parse_weekday("пр") is None


def slot(days: str = '["пн"]', start: str = '"14:00"', end: str = '"16:00"', who: str = '"tech"') -> str:
    return f"\n[[slots]]\ndays = {days}\nstart = {start}\nend = {end}\nspecialist = {who}\n"


def test_slot_ends_before_it_starts(tmp_path: Path) -> None:
    text = HEAD + slot() + slot(start='"14:00"', end='"13:00"')
    message = error_of(tmp_path, text)
    last_end = max(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("end ="))
    assert message == f"{tmp_path / 'school.toml'}:{last_end}: slot ends before it starts (14:00–13:00)"


def test_unknown_specialist_in_schedule(tmp_path: Path) -> None:
    text = HEAD + slot(who='"tehc"')
    message = error_of(tmp_path, text)
    assert message.endswith(
        f':{line_of(text, "tehc")}: unknown specialist "tehc" in schedule (known: tech, zam1)'
    )
    assert message.startswith(str(tmp_path / "school.toml"))


def test_toml_syntax_error(tmp_path: Path) -> None:
    text = HEAD.replace('phone = "(86550) 93-464"', "phone = (86550) 93-464")
    message = error_of(tmp_path, text)
    assert f"school.toml:{line_of(text, 'phone =')}: TOML syntax error:" in message
    assert "column" in message


@pytest.mark.parametrize(
    ("extra", "needle", "problem"),
    [
        (slot(days='["пн", "пр"]'), "пр", 'unknown weekday "пр"'),
        (slot(start='"14.00"'), "14.00", 'invalid time "14.00"'),
        (slot(start='"25:00"'), "25:00", 'invalid time "25:00"'),
        (slot(start='"14:00"', end='"14:00"'), 'end = "14:00"', "slot has zero length"),
        (
            slot() + slot(days='["ср", "пн"]', start='"15:00"', end='"17:00"'),
            'start = "15:00"',
            'slots of "tech" overlap on Mon',
        ),
        (
            '\n[[slots]]\ndays = ["пн"]\nstrat = "14:00"\n',
            "strat",
            'unknown key "strat" in [[slots]] (did you mean "start"?)',
        ),
        (
            '\n[[holidays]]\nstart = 2027-01-11\nend = 2026-12-28\ntitle = "зимние"\n',
            "end = 2026-12-28",
            '"зимние" ends before it starts',
        ),
        ('\n[[holidays]]\ndate = "2026-13-01"\ntitle = "x"\n', "2026-13-01", 'invalid date "2026-13-01"'),
        (
            '\n[[changes]]\ndate = 2026-12-01\nkind = "move"\nspecialist = "tech"\n',
            "move",
            'unknown change kind "move"',
        ),
        (
            slot()
            + '\n[[changes]]\ndate = 2026-11-30\nkind = "substitute"\nspecialist = "tech"\nsubstitute = "zam2"\n',
            "zam2",
            'unknown specialist "zam2" in changes',
        ),
        (
            slot() + '\n[[changes]]\ndate = 2026-12-01\nkind = "cancel"\nspecialist = "tech"\n',
            "date = 2026-12-01",
            '"tech" has no consultation on 2026-12-01 (Tue) to cancel',
        ),
        (
            '\n[[changes]]\ndate = 2026-12-01\nkind = "extra"\nspecialist = "tech"\n',
            "[[changes]]",
            'an "extra" consultation needs "start" and "end"',
        ),
    ],
)
def test_semantic_errors_point_at_the_line(tmp_path: Path, extra: str, needle: str, problem: str) -> None:
    text = HEAD + extra
    message = error_of(tmp_path, text)
    expected_line = max(i for i, line in enumerate(text.splitlines(), 1) if needle in line)
    assert f"school.toml:{expected_line}: {problem}" in message, message


@pytest.mark.parametrize(
    ("replace", "with_", "needle", "problem"),
    [
        ('kind = "deputy"', 'kind = "deputy"\nmanager = "boss"', "boss", 'unknown manager "boss" for "zam1"'),
        (
            'kind = "deputy"',
            'kind = "deputy"\nmanager = "zam1"',
            'manager = "zam1"',
            '"zam1" cannot be their own manager',
        ),
        ('kind = "deputy"', 'kind = "director"', "director", 'unknown kind "director"'),
        (
            'kind = "deputy"',
            'kind = "deputy"\ncategories = ["оценки", "журналы"]',
            "журналы",
            'unknown value "журналы" in "categories"',
        ),
        (
            'kind = "deputy"',
            'kind = "deputy"\nroles = ["teacher", "pupil"]',
            "pupil",
            'unknown value "pupil" in "roles"',
        ),
        (
            'kind = "deputy"',
            'kind = "deputy"\ntopics = ["ej", "ed", "eg"]',
            '"eg"',
            'unknown value "eg" in "topics"',
        ),
        ('key = "zam1"', 'key = "tech"', 'key = "tech"', 'duplicate specialist key "tech"'),
        ('key = "zam1"', 'key = "зам"', 'key = "зам"', 'specialist key "зам" must be'),
        ('email = "kazmschool@mail.ru"', 'email = "kazmschool"', "email", 'invalid e-mail "kazmschool"'),
        (
            'email = "kazmschool@mail.ru"',
            'email = "k@m.ru"\ntimezone = "Europe/Mosow"',
            "timezone",
            'unknown time zone "Europe/Mosow"',
        ),
        ('phone = "(86550) 93-464"', 'phone = "1"\nfax = "2"', "fax", 'unknown key "fax" in [school]'),
        (
            'rules = "Через администратора"',
            'rules = "x"\nreminder_days = 0',
            "reminder_days",
            '"reminder_days" must be',
        ),
        ("[vendor]", "[vendors]", "[vendors]", 'unknown key "vendors" in the file (did you mean "vendor"?)'),
    ],
)
def test_specialist_and_header_errors(
    tmp_path: Path, replace: str, with_: str, needle: str, problem: str
) -> None:
    assert HEAD.count(replace) == 1
    text = HEAD.replace(replace, with_)
    message = error_of(tmp_path, text)
    expected_line = max(i for i, line in enumerate(text.splitlines(), 1) if needle in line)
    assert f"school.toml:{expected_line}: {problem}" in message, message


def test_missing_required_field_points_at_table(tmp_path: Path) -> None:
    text = HEAD.replace('short_name = "Петрова А. С."\n', "")
    message = error_of(tmp_path, text)
    header = max(i for i, line in enumerate(text.splitlines(), 1) if line == "[[specialists]]")
    assert f'school.toml:{header}: missing "short_name" in [[specialists]]' in message


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"nope\.toml: cannot read the file"):
        load_profile(tmp_path / "nope.toml")
    bad = tmp_path / "school.toml"
    bad.write_bytes("name = 'Школа'".encode("cp1251"))
    with pytest.raises(ProfileError, match="UTF-8"):
        load_profile(bad)


def test_multiline_strings_do_not_confuse_line_numbers(tmp_path: Path) -> None:
    text = HEAD.replace(
        'rules = "Через администратора"',
        'rules = """Первая строка\n[[slots]]\nstart = "ещё текст"\n"""',
    ) + slot(end='"13:00"')
    message = error_of(tmp_path, text)
    last_end = max(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("end ="))
    assert f"school.toml:{last_end}: slot ends before it starts (14:00–13:00)" in message


# ---- [routing]: which kinds of helper take which questions ---------------------------------------------


def test_routing_table_is_read_for_both_topics_and_per_topic(tmp_path: Path) -> None:
    text = HEAD + """
[routing]
"вход" = ["tech", "заместитель"]
mob = "tech"

[routing.ed]
grades = ["teacher", "deputy"]
"""
    profile = load_profile(write(tmp_path, text))
    assert profile.kinds_for(Topic.JOURNAL, Category.LOGIN) == (
        (SpecialistKind.TECH, SpecialistKind.DEPUTY),
        True,
    )
    assert profile.kinds_for(Topic.DIARY, Category.MOBILE) == ((SpecialistKind.TECH,), True)
    assert profile.kinds_for(Topic.DIARY, Category.GRADES)[0] == (SpecialistKind.TEACHER, SpecialistKind.DEPUTY)
    # not named: the defaults, and the profile says nothing
    assert profile.kinds_for(Topic.JOURNAL, Category.GRADES) == (
        (SpecialistKind.DEPUTY, SpecialistKind.TEACHER, SpecialistKind.TECH),
        False,
    )


@pytest.mark.parametrize(
    ("routing", "needle", "problem"),
    [
        ('[routing]\nocenki = ["tech"]\n', "ocenki", 'unknown category "ocenki" in [routing]'),
        ('[routing]\nlogin = ["tech", "director"]\n', "director", 'unknown kind "director" for "login"'),
        ('[routing]\nlogin = ["tech", "tech"]\n', "login", 'kind "tech" is listed twice for "login"'),
        ("[routing]\nlogin = []\n", "login", '"login" in [routing] must be a list of kinds'),
        ("[routing]\nlogin = 5\n", "login", '"login" in [routing] must be a list of kinds'),
        ('[routing.ed]\ngrades = ["teacher"]\nnope = ["tech"]\n', "nope", 'unknown category "nope" in [routing.ed]'),
        ('[routing.ej]\ngrades = ["boss"]\n', "boss", 'unknown kind "boss" for "grades" in [routing.ej]'),
        ('[routing.ej]\nlogin = ["tech"]\n"вход" = ["deputy"]\n', "вход", '"login" is given twice in [routing.ej]'),
    ],
)
def test_routing_errors_name_the_line(tmp_path: Path, routing: str, needle: str, problem: str) -> None:
    text = HEAD + "\n" + routing
    message = error_of(tmp_path, text)
    assert f"school.toml:{line_of(text, needle)}: " in message, message
    assert problem in message, message
