"""Deployment you can trust (issue 13): the Dockerfile's promises, the systemd unit in the README, the health
check, and ``python main.py backup`` (SQLite's online backup API) restored and read back."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.jobs import heartbeat_file, heartbeat_limit
from storage.db import Database
from storage.users import UserRepo

ROOT = Path(__file__).resolve().parents[2]


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def test_the_dockerfile_runs_a_slim_image_as_a_user_with_the_database_on_a_volume() -> None:
    steps = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    kinds = [k for k, _ in steps]
    froms = [a for k, a in steps if k == "FROM"]
    assert len(froms) == 1 and re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", froms[0]), froms
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the bot does not run as root"
    assert kinds.index("USER") < kinds.index("CMD")
    env = " ".join(a for k, a in steps if k == "ENV")
    database = re.search(r"DATABASE_PATH=(\S+)", env)
    assert database is not None
    volumes = " ".join(a for k, a in steps if k == "VOLUME")
    folder = str(Path(database.group(1)).parent)
    assert folder in volumes, (folder, volumes)
    runs = " ".join(a for k, a in steps if k == "RUN")
    assert f"chown ejbot:ejbot {folder}" in runs, "the volume's folder belongs to the bot's user"
    health = [a for k, a in steps if k == "HEALTHCHECK"]
    assert health and '"main.py", "health"' in health[0]
    cmd = [a for k, a in steps if k == "CMD"]
    assert cmd == ['["python", "main.py", "run"]']
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".env", ".git", "data/"} <= set(ignored), "no secrets and no local database in the image"


def test_the_readme_documents_restarts_on_failure() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^\s*Restart=(always|on-failure)$", readme, re.M), "the systemd unit restarts the bot"
    assert "--restart=on-failure" in readme or "restart: on-failure" in readme, "so does Docker"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "TICK_"))}
    env["DATABASE_PATH"] = str(tmp_path / "bot.sqlite3")
    env.update(extra)
    return env


async def _main(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "main.py",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_health_reads_the_heartbeat(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, out = await _main("health", env=env)
    assert code == 1 and "no heartbeat" in out
    beat = heartbeat_file(tmp_path / "bot.sqlite3")
    beat.touch()
    code, out = await _main("health", env=env)
    assert code == 0 and "healthy" in out, out
    stale = time.time() - heartbeat_limit(30) - 5
    os.utime(beat, (stale, stale))
    code, out = await _main("health", env=env)
    assert code == 1 and "hung" in out, out


async def test_a_backup_taken_while_the_bot_writes_is_restored_and_read_back(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    users = UserRepo(db.conn)
    now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    for i in range(200):
        await users.upsert(
            channel="telegram",
            external_id=str(1000 + i),
            chat_id=1000 + i,
            first_name=f"Родитель {i}",
            last_name=None,
            username=None,
            client_language="ru",
            now=now,
        )
    writing = True

    async def keep_writing() -> None:
        i = 0
        while writing:  # the bot goes on writing while the backup is taken (WAL: into the -wal file)
            async with db.transaction() as conn:
                await UserRepo(conn).upsert(
                    channel="telegram",
                    external_id=f"w{i}",
                    chat_id=5000 + i,
                    first_name="Пишет",
                    last_name=None,
                    username=None,
                    client_language="ru",
                    now=now,
                )
            i += 1
            await asyncio.sleep(0.005)

    writer = asyncio.create_task(keep_writing())
    try:
        target = tmp_path / "backups" / "copy.sqlite3"
        target.parent.mkdir()
        code, out = await _main("backup", str(target), env=_env(tmp_path))
    finally:
        writing = False
        await writer
        await db.close()
    assert code == 0, out
    assert "backup written" in out
    assert not list(target.parent.glob(".*partial*")), "no half-written copy is left"

    # Restore: the copy is a database the bot opens as it is (its schema up to date), with the data.
    restored = await Database.open(target)
    try:
        first = await UserRepo(restored.conn).by_external("telegram", "1000")
        last = await UserRepo(restored.conn).by_external("telegram", "1199")
        assert first is not None and first.first_name == "Родитель 0"
        assert last is not None and last.first_name == "Родитель 199"
    finally:
        await restored.close()

    code, out = await _main("backup", env=_env(tmp_path))
    assert code == 2 and "one target path" in out
    missing = _env(tmp_path, DATABASE_PATH=str(tmp_path / "none.sqlite3"))
    code, out = await _main("backup", str(tmp_path / "x.sqlite3"), env=missing)
    assert code == 1 and "backup failed" in out
