"""Run a bot as a separate process against the fake server, and kill it like a power cut.

    proc = BotProcess.for_server(server, ["python", "main.py"], cwd=ROOT, env={"STAFF_CHAT_ID": ...})
    await proc.start()            # returns once the bot's first getUpdates reached the server
    await proc.kill()             # SIGKILL: no shutdown handlers, no flushing, like `kill -9`
    await proc.restart()          # kill (if running) + start
    code = await proc.stop()      # SIGTERM and wait: the graceful path

The process's output goes to ``log_path`` (appended across restarts), so a long run does not fill a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from .server import FakeTelegram


class BotProcess:
    def __init__(
        self,
        server: FakeTelegram,
        argv: Sequence[str],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        self.server = server
        self.argv = list(argv)
        self.cwd = str(cwd) if cwd is not None else None
        self.env = dict(env) if env is not None else dict(os.environ)
        self.log_path = Path(log_path) if log_path is not None else None
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.start_times: list[float] = []
        """Seconds from spawning to the first getUpdates, per start."""
        self._log: IO[bytes] | None = None

    @classmethod
    def for_server(
        cls,
        server: FakeTelegram,
        argv: Sequence[str],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        log_path: str | Path | None = None,
    ) -> BotProcess:
        """The current environment minus any bot settings, plus the server's token and URL, plus ``env``."""
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOT_", "TELEGRAM_", "STAFF_", "DATABASE_", "MANAGER_", "DIRECTOR_"))
        }
        base.update({"BOT_TOKEN": server.token, "TELEGRAM_API_BASE": server.base_url})
        base.update(env or {})
        return cls(server, argv, cwd=cwd, env=base, log_path=log_path)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        """Spawn the bot and wait until it polls; returns the start-up time in seconds."""
        if self.running:
            raise RuntimeError("the bot process is already running")
        # A getUpdates is counted when it arrives (a long poll is recorded as a call only when it ends).
        polls_before = self.server.world.poll_generation
        if self.log_path is not None and self._log is None:
            self._log = self.log_path.open("ab")
        out = self._log if self._log is not None else asyncio.subprocess.DEVNULL
        began = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        self.starts += 1
        while self.server.world.poll_generation <= polls_before:
            if self.proc.returncode is not None:
                raise RuntimeError(f"the bot exited with code {self.proc.returncode} during start-up")
            if time.monotonic() - began > timeout:
                await self.kill()
                raise TimeoutError(f"the bot did not poll within {timeout:.0f} s")
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - began
        self.start_times.append(elapsed)
        return elapsed

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            self.kills += 1
        await self.proc.wait()
        self.proc = None

    async def restart(self, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        await self.kill()
        return await self.start(timeout)

    async def stop(self, timeout: float = 30.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM and wait (SIGKILL after ``timeout``); returns the exit code."""
        code: int | None = None
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), timeout)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGKILL)
                    await proc.wait()
            code = proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the process has used so far (Linux /proc), or None."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self, field: str = "VmRSS") -> int | None:
        """Resident memory of the process in KiB (Linux /proc), or None; ``field="VmHWM"`` for the peak."""
        if self.proc is None:
            return None
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        return None
