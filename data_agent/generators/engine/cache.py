"""A persistent cache of successful teacher responses (SQLite, stdlib only).

One table maps a request's cache key (``TeacherRequest.cache_key(backend,
model)``, a SHA-256 of everything that changes the answer) to the JSON of the
:class:`~data_agent.generators.teachers.base.TeacherResponse`, with the backend, model and
creation time. Every ``put`` is committed at once (autocommit, WAL journal), so
a response is on disk before the caller uses it and a crash loses nothing.
``put_many`` stores several responses in one transaction (one commit: the
runner groups the answers that arrive in one event-loop turn and commits them
before any of them leaves the run). WAL with ``synchronous=NORMAL``: a commit
survives a crash of the application (not necessarily a power loss) and costs
no fsync.

Only successful responses are stored; failures are simply asked again next
time. API keys are never part of a request, hence never stored.

The cache is safe to share between threads and asyncio tasks (one connection
guarded by a lock) and between processes (WAL mode with a busy timeout).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from ..teachers.base import TeacherResponse

__all__ = ["ResponseCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key      TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    backend  TEXT NOT NULL DEFAULT '',
    model    TEXT NOT NULL DEFAULT '',
    created  REAL NOT NULL
)
"""


_INSERT = "INSERT OR REPLACE INTO responses (key, response, backend, model, created) VALUES (?, ?, ?, ?, ?)"

_FIELDS = tuple(f.name for f in dataclasses.fields(TeacherResponse))


def _dumps(response: TeacherResponse) -> str:
    """The stored JSON: ``TeacherResponse.to_dict()`` with ``cached`` false,
    built without ``asdict``'s deep copy (the same document, several times
    cheaper)."""
    data = {name: getattr(response, name) for name in _FIELDS}
    u = response.usage
    data["usage"] = {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens}
    data["cached"] = False
    return json.dumps(data, ensure_ascii=False, default=str)


class ResponseCache:
    """SQLite response cache.

    Args:
        path: database file (parent folders are created), or ``":memory:"``.
        busy_timeout: seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: autocommit, every statement is durable at once.
        self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                     check_same_thread=False)
        with self._lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0
        self.puts = 0

    # -- access -----------------------------------------------------------------

    def get(self, key: str) -> TeacherResponse | None:
        """The stored response for ``key`` (marked ``cached=True``), or ``None``."""
        with self._lock:
            row = self._conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        response = TeacherResponse.from_dict(json.loads(row[0]))
        response.cached = True
        return response

    def put(self, key: str, response: TeacherResponse, *, backend: str = "", model: str = "") -> bool:
        """Store a successful response (committed immediately). Failed responses
        (``error`` set) are not stored; returns whether it was stored."""
        return self.put_many([(key, response)], backend=backend, model=model) == 1

    def put_many(self, items: Iterable[tuple[str, TeacherResponse]], *, backend: str = "", model: str = "") -> int:
        """Store successful responses in one transaction (committed before this
        returns; all or none). Failed responses are skipped; returns how many
        were stored."""
        now = time.time()
        rows = [(key, _dumps(r), backend, model or r.model, now) for key, r in items if r.ok]
        if not rows:
            return 0
        with self._lock:
            if len(rows) == 1:
                self._conn.execute(_INSERT, rows[0])
            else:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(_INSERT, rows)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            self.puts += len(rows)
        return len(rows)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM responses WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def delete(self, key: str) -> bool:
        """Forget one response; returns whether it was there."""
        with self._lock:
            return self._conn.execute("DELETE FROM responses WHERE key = ?", (key,)).rowcount > 0

    def stats(self) -> dict[str, Any]:
        """Entries (total and per ``backend:model``) plus this session's hits,
        misses and puts."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT backend, model, COUNT(*) FROM responses GROUP BY backend, model"
            ).fetchall()
        by_model = {f"{b}:{m}": int(n) for b, m, n in rows}
        return {
            "path": self.path,
            "entries": sum(by_model.values()),
            "by_model": by_model,
            "hits": self.hits,
            "misses": self.misses,
            "puts": self.puts,
        }

    # -- lifetime ---------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "ResponseCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({self.path!r})"
