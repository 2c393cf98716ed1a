"""The token never leaves the process: not in a log record, not in a traceback Python prints itself.

Log records are redacted by the formatter (the whole formatted record: the message, the traceback of
``exc_info``, the stack). Whatever reaches ``sys.stdout``/``sys.stderr`` by other ways (``sys.excepthook``,
``threading.excepthook``, a ``print``, warnings) passes :class:`RedactingStream`. Message texts of users are
kept out of the log by silencing the loggers that dump SQL parameters (aiosqlite at DEBUG).
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import traceback
from types import TracebackType
from typing import TextIO

MASK = "***"
# Libraries whose DEBUG records are noise or carry data: aiosqlite logs SQL parameters (message texts),
# markdown-it logs every token of every article it renders (seconds of start-up at LOG_LEVEL=DEBUG).
TALKATIVE_LOGGERS = ("aiosqlite", "markdown_it", "pymorphy3")


class Redactor:
    """Replaces the secrets in a text; the token's bot-id part alone is no secret and stays."""

    def __init__(self, *secrets: str) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose every output line is redacted, tracebacks included."""

    def __init__(self, redact: Redactor, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class RedactingStream(io.TextIOBase):
    """A text stream that redacts what is written before passing it on."""

    def __init__(self, inner: TextIO, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redact = redact

    def write(self, text: str) -> int:
        self.inner.write(self.redact(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.inner.errors


def install(redact: Redactor, *, level: str = "INFO") -> None:
    """Logging with the redacting formatter; stdout, stderr and the exception hooks redacted."""
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout, redact)  # type: ignore[assignment]
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr, redact)  # type: ignore[assignment]

    def excepthook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        sys.stderr.write(redact(f"Exception in thread {name}:\n{text}"))

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    logging.basicConfig(level=level, stream=sys.stderr, force=True)
    formatter = RedactingFormatter(redact, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    for name in TALKATIVE_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
