"""Make a teacher's reply safe to store, before anything stores it.

A reply is untrusted text. Before the runner caches it, parses it or hands it
on (to ``pool.jsonl`` and ``submission.json``), :func:`sanitise_response`
rewrites its ``text`` and every string inside ``parsed``:

* code points that UTF-8 cannot encode (lone surrogates such as the one
  ``json.loads('"\\ud800"')`` returns) become U+FFFD, the replacement
  character, and NUL characters are removed: either would make the SQLite or
  JSON write fail, and fail again on every resume;
* the values of the configured API keys (the environment variables named by
  every ``key_env`` of :data:`~data_agent.generators.teachers.specs.BACKENDS`,
  read when the reply arrives) and whatever
  :func:`data_agent.logging_utils.redact` removes (environment secrets,
  ``sk-...`` tokens, ``Bearer ...`` and ``api_key=...`` values) become
  ``[REDACTED]``: a server that reflects the key in a 200 reply must not put
  it on disk.

Honest text is returned unchanged (the same object when nothing matched).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ...logging_utils import redact
from .base import TeacherResponse

__all__ = ["clean_text", "clean_value", "configured_secrets", "sanitise_response"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def configured_secrets() -> list[str]:
    """The current values of the API-key variables of every backend kind."""
    from .specs import BACKENDS  # the table imports this package's backends lazily

    names = {k.key_env for k in BACKENDS.values() if k.key_env}
    return [v for v in (os.environ.get(n, "") for n in sorted(names)) if v]


def clean_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with unencodable code points replaced, NULs removed and secrets
    redacted (``secrets``: the key values to remove; :func:`configured_secrets`
    when ``None``)."""
    if not isinstance(text, str) or not text:
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return redact(text, configured_secrets() if secrets is None else secrets)


def clean_value(value: Any, secrets: list[str] | None = None) -> Any:
    """A JSON-like value with :func:`clean_text` applied to every string in it
    (keys included): what a parsed reply is made safe with, since a JSON escape
    such as ``"\\ud800"`` is harmless text but parses into a lone surrogate."""
    secrets = configured_secrets() if secrets is None else secrets
    if isinstance(value, str):
        return clean_text(value, secrets)
    if isinstance(value, dict):
        return {clean_text(k, secrets) if isinstance(k, str) else k: clean_value(v, secrets)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_value(v, secrets) for v in value)
    return value


def sanitise_response(response: TeacherResponse) -> TeacherResponse:
    """Clean ``response`` in place (``text``, ``parsed``, ``error``,
    ``finish_reason``, ``model`` and ``metadata``) and return it. When cleaning
    changed ``parsed``, ``text`` becomes its JSON, so that the text, stored
    beside it, cannot hold an escaped key or surrogate either."""
    secrets = configured_secrets()
    response.text = clean_text(response.text or "", secrets)
    if response.parsed is not None:
        cleaned = clean_value(response.parsed, secrets)
        if cleaned != response.parsed:
            response.parsed = cleaned
            response.text = json.dumps(cleaned, ensure_ascii=False)
    if response.error:
        response.error = clean_text(response.error, secrets)
    for name in ("finish_reason", "model"):
        value = getattr(response, name)
        if isinstance(value, str):
            setattr(response, name, clean_text(value, secrets))
    if response.metadata:
        response.metadata = clean_value(response.metadata, secrets)
    return response
