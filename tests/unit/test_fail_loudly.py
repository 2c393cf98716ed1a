"""Failing loudly and keeping secrets, in the process (issue 13): the database refusing writes stops a serving
bot with Fatal; SQLite's "disk full" is recognised; the token is redacted from whatever Python prints itself."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.startup import Fatal
from storage.db import fatal_reason
from tests.conftest import TOKEN, Harness

ROOT = Path(__file__).resolve().parents[2]


async def test_the_database_refusing_writes_stops_a_serving_bot(plain_desk: Harness) -> None:
    h = plain_desk
    assert h.app is not None and h.task is not None
    # The file system turned read-only under the bot (what a failing disk does): every write is refused.
    for conn in (h.app.db.conn, h.app.db.writer):
        assert conn is not None
        await conn.execute("PRAGMA query_only = 1")
    parent = h.user("Анна")
    await parent.send("/start")
    with pytest.raises(Fatal, match="the database failed: the database is read-only"):
        await asyncio.wait_for(h.task, 20)
    h.task = None
    h.app = None


def test_a_full_disk_is_recognised(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "small.sqlite3")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 20")
    with pytest.raises(sqlite3.OperationalError) as full:
        for _ in range(100):
            conn.execute("INSERT INTO t VALUES (zeroblob(4000))")
    conn.close()
    assert fatal_reason(full.value) == "the disk is full"
    assert fatal_reason(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    assert fatal_reason(ValueError("x")) is None


SCRIPT = f"""
import asyncio, logging, threading, warnings
from bot.redaction import Redactor, install
token = {TOKEN!r}
install(Redactor(token), level="DEBUG")
log = logging.getLogger("x")
log.info("calling https://api.telegram.org/bot%s/getMe", token)
try:
    raise RuntimeError(f"TooManyRedirects: url=https://api.telegram.org/bot{{token}}/getMe")
except RuntimeError:
    log.exception("failed")
t = threading.Thread(target=lambda: (_ for _ in ()).throw(ValueError(f"thread {{token}}")))
t.start(); t.join()
async def main():
    loop = asyncio.get_running_loop()
    loop.call_exception_handler({{"message": f"handler {{token}}", "exception": OSError(token)}})
    async def boom():
        raise KeyError(f"task {{token}}")
    task = asyncio.ensure_future(boom())
    await asyncio.sleep(0.01)
    del task
asyncio.run(main())
import gc; gc.collect()
print("printed", token)
raise SystemError(f"uncaught {{token}}")
"""


def test_the_token_is_in_no_output_python_prints_itself() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    for seen in ("calling", "failed", "thread", "handler", "task", "printed", "uncaught", "Traceback"):
        assert seen in output, (seen, output)
    assert TOKEN not in output, output
    assert TOKEN.split(":", 1)[1] not in output
    assert output.count("***") >= 7, output
