"""Keep API keys out of logs and reports.

``install_redaction()`` attaches a :class:`RedactingFilter` to the root logger's
handlers and to the ``openai``, ``anthropic`` and ``httpx`` loggers (and their
handlers). ``install_process_redaction()`` (what the CLI calls) does that and
also redacts every log record as it is created, whichever logger emits it and
whichever handler (added before or after) writes it, and redacts warnings and
uncaught tracebacks. The filter replaces, in every record's message, arguments and
traceback text:

* the literal values of configured secrets and of every environment variable
  whose name ends with ``_API_KEY`` or ``_TOKEN``;
* anything that looks like a key: ``sk-...`` / ``sk-ant-...`` tokens,
  ``Bearer ...`` credentials and ``x-api-key: ...`` / ``api_key=...`` /
  ``Authorization: ...`` header or keyword values,

with ``[REDACTED]``. :func:`redact` applies the same rules to any text (error
messages, reports).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "env_secret_values",
    "install_process_redaction",
    "install_redaction",
    "redact",
    "remove_redaction",
]

REDACTED = "[REDACTED]"

SECRET_ENV_SUFFIXES: tuple[str, ...] = ("_API_KEY", "_TOKEN")
"""Environment variables whose names end with one of these hold secrets."""

MIN_SECRET_LENGTH = 8
"""Shorter configured values are ignored (redacting e.g. ``"true"`` everywhere
would garble logs without protecting anything)."""

LOGGERS_TO_FILTER: tuple[str, ...] = ("openai", "anthropic", "httpx")

# Order matters: ``Bearer`` first so that ``Authorization: Bearer x`` keeps the
# scheme word and the header rule below skips it.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{6,}"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)\b(x-api-key|api[_-]?key|authorization|access[_-]token|auth[_-]token)"
            r"([\"']?\s*[:=]\s*[\"']?)"
            r"(?!bearer\b|\[REDACTED\])"
            r"(?:(?:basic|token)\s+)?[^\s\"',;}\]]+"
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"), REDACTED),
)


def env_secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of environment variables named ``*_API_KEY`` / ``*_TOKEN``."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if k.upper().endswith(SECRET_ENV_SUFFIXES) and len(v) >= MIN_SECRET_LENGTH]


def _redact(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so that a secret containing another is replaced whole.
    for value in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from records (it never drops one).

    The record's message is formatted with its arguments first (so a key passed
    as ``%s`` argument, inside a dict or an exception, is caught too), then
    redacted; ``args`` is cleared. A traceback is rendered to ``exc_text``,
    redacted, and ``exc_info`` cleared, so that no handler re-renders the raw
    exception.
    """

    def __init__(self, secrets: Iterable[str] | None = None, name: str = ""):
        super().__init__(name)
        self.secrets: set[str] = set()
        self.add_secrets(secrets or ())

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Register more literal secret values."""
        self.secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)

    def redact(self, text: str) -> str:
        """Redact configured secrets, environment secrets and key-like strings."""
        return _redact(text, [*self.secrets, *env_secret_values()])

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # badly formatted record: keep the parts, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER: RedactingFilter | None = None


def _targets() -> list[logging.Filterer]:
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    for name in LOGGERS_TO_FILTER:
        lg = logging.getLogger(name)
        targets.append(lg)
        targets.extend(lg.handlers)
    return targets


def install_redaction(secrets: list[str] | None = None) -> RedactingFilter:
    """Attach the (single, shared) redacting filter where secrets could leak.

    Secret values are ``secrets`` plus the values of every environment variable
    ending with ``_API_KEY`` / ``_TOKEN``. Idempotent: calling again adds new
    secrets and attaches the filter to handlers added since. Handlers added to
    the root logger *after* this call are not covered: call it again after
    configuring logging.
    """
    global _FILTER
    values = [*(secrets or []), *env_secret_values()]
    if _FILTER is None:
        _FILTER = RedactingFilter(values)
    else:
        _FILTER.add_secrets(values)
    for target in _targets():
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
    return _FILTER


_REDACTING_MARK = "_data_agent_redacting"


def install_process_redaction(secrets: list[str] | None = None) -> RedactingFilter:
    """Redact every log line this process writes, not only the handlers present now.

    A filter on a handler misses handlers added later (a library's own, a
    ``basicConfig`` after startup) and ``logging.lastResort``, which writes
    WARNING records to stderr when no handler is configured; a filter on a
    logger misses records propagated from its children. So, besides
    :func:`install_redaction`:

    * the log record factory is wrapped: each record is redacted when it is
      created (message, arguments, traceback), before any handler sees it;
    * ``warnings.showwarning`` writes a warning redacted (one routed through
      logging by :func:`logging.captureWarnings` is a log record: the factory
      redacts it);
    * ``sys.excepthook`` prints an uncaught exception's traceback redacted.

    Idempotent; secrets given on later calls are added.
    """
    import sys
    import traceback
    import warnings

    filt = install_redaction(secrets)
    old_factory = logging.getLogRecordFactory()
    if not getattr(old_factory, _REDACTING_MARK, False):
        def factory(*args, **kwargs):
            record = old_factory(*args, **kwargs)
            filt.filter(record)
            return record

        setattr(factory, _REDACTING_MARK, True)
        logging.setLogRecordFactory(factory)
    if not getattr(warnings.showwarning, _REDACTING_MARK, False):
        def showwarning(message, category, filename, lineno, file=None, line=None):
            out = sys.stderr if file is None else file
            if out is None:  # pythonw: no stderr
                return
            try:
                out.write(filt.redact(warnings.formatwarning(message, category, filename, lineno, line)))
            except OSError:
                pass

        setattr(showwarning, _REDACTING_MARK, True)
        warnings.showwarning = showwarning
    if not getattr(sys.excepthook, _REDACTING_MARK, False):
        previous = sys.excepthook

        def excepthook(exc_type, exc, tb):
            if issubclass(exc_type, KeyboardInterrupt):
                return previous(exc_type, exc, tb)
            sys.stderr.write(filt.redact("".join(traceback.format_exception(exc_type, exc, tb))))

        setattr(excepthook, _REDACTING_MARK, True)
        sys.excepthook = excepthook
    return filt


def remove_redaction() -> None:
    """Detach the filter installed by :func:`install_redaction` (for tests)."""
    global _FILTER
    if _FILTER is None:
        return
    for target in _targets():
        if _FILTER in target.filters:
            target.removeFilter(_FILTER)
    _FILTER = None


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Redact ``text`` for reports and error messages: the given secrets, those
    registered with :func:`install_redaction`, environment secrets and anything
    that looks like an API key."""
    known = set(secrets or ())
    if _FILTER is not None:
        known |= _FILTER.secrets
    return _redact(str(text), [*known, *env_secret_values()])
