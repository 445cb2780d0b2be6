"""The sealed test split, audited at the wire: every outbound engineer and
teacher request is checked against the test items' n-grams before it is sent.

A request whose text (all its messages) holds a span of a test item (at least
:data:`~data_agent.fingerprints.WIRE_MIN_RUN` consecutive word 8-grams found
in no validation item, no seed and fewer than three test items: 12 words or
more of one test problem) is not sent: :class:`WireAuditError` stops the run,
naming the request (its role, topic, attempt and iteration) and the closest
test item. The n-grams come from the pack's ``fingerprints.json``
(``test_ngrams``: hashes, not text); the test split itself is never read.

Every check is counted in the run's ``audit.json`` under ``wire``: requests
checked by role, the rule, and each request stopped.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ...errors import DataAgentError
from ...records import atomic_write_json

__all__ = ["WireAudit", "WireAuditError"]


class WireAuditError(DataAgentError):
    """An outbound request held text of a test item; it was not sent."""


def describe(request: Any) -> str:
    """A request named for a person: its role and what it was for."""
    meta = dict(getattr(request, "metadata", None) or {})
    role = str(meta.get("role") or "teacher")
    parts = [f"{role} request"]
    for key in ("iteration", "topic", "difficulty", "attempt", "record", "j"):
        if meta.get(key) not in (None, ""):
            parts.append(f"{key} {meta[key]}")
    return ", ".join(parts)


class WireAudit:
    """Checks requests before they are sent (:meth:`check_all`); see the module docstring.

    Args:
        fingerprints: the pack's :class:`~data_agent.fingerprints.EvalFingerprints`
            (its test items and ``wire_ngrams``), or ``None`` for a pack without
            per-item fingerprints (then nothing can be checked, and the audit says so).
        audit_path: the run's ``audit.json`` (counts are written under ``wire``), or ``None``.
    """

    def __init__(self, fingerprints: Any, audit_path: Path | str | None = None):
        from ...fingerprints import WIRE_MIN_RUN, WIRE_N

        self.fp = fingerprints.subset("test") if fingerprints is not None else None
        self.enabled = self.fp is not None and self.fp.wire_ngrams is not None
        self.min_run, self.n = WIRE_MIN_RUN, WIRE_N
        self.path = Path(audit_path) if audit_path is not None else None
        self.checked: Counter = Counter()
        self.blocked: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if self.path is not None and self.path.is_file():  # a resumed run continues its counts
            try:
                prior = json.loads(self.path.read_text(encoding="utf-8")).get("wire") or {}
                self.checked.update(prior.get("checked_by_role") or {})
                self.blocked = list(prior.get("blocked") or [])
            except (OSError, ValueError, AttributeError):
                pass

    def rule(self) -> str:
        if not self.enabled:
            return "not checked: the pack's fingerprints.json has no test_ngrams (rebuild the pack's fingerprints)"
        return (f"no outbound request may hold {self.n + self.min_run - 1} or more consecutive words of a test item "
                f"({self.min_run} consecutive word {self.n}-grams of the test items' own, found in no validation "
                f"item and no seed)")

    def _closest(self, text: str) -> str:
        from ...fingerprints import shingles

        c = self.fp.containments(shingles(text))
        if not len(c):
            return "a test item"
        k = int(c.argmax())
        return f"test item {self.fp.ids[k]} (the closest by word 3-grams, {c[k]:.0%} contained)"

    def check(self, request: Any) -> None:
        """Count ``request``, or stop it (:class:`WireAuditError`) when it holds a test item's text."""
        meta = dict(getattr(request, "metadata", None) or {})
        role = str(meta.get("role") or "teacher")
        if self.enabled:
            text = "\n".join(str(m.get("content", "")) for m in request.messages)
            run = self.fp.test_run(text)
            if run >= self.min_run:
                what = describe(request)
                item = self._closest(text)
                entry = {"request": what, "words": run + self.n - 1, "item": item,
                         "key": request.cache_key("audit", "audit")[:16] if hasattr(request, "cache_key") else ""}
                with self._lock:
                    self.blocked.append(entry)
                self.flush()
                raise WireAuditError(f"wire audit: the {what} holds {run + self.n - 1} consecutive words of {item}; "
                                     f"it was not sent and the run stops. The test split never leaves the process: "
                                     f"find where that text entered the request (a seed, the pack description, "
                                     f"teacher guidance) and remove it. Logged in {self.path or 'the audit'}")
        with self._lock:
            self.checked[role] += 1

    def check_all(self, requests: Iterable[Any]) -> None:
        try:
            for r in requests:
                self.check(r)
        finally:
            self.flush()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"rule": self.rule(), "checked": sum(self.checked.values()),
                    "checked_by_role": dict(sorted(self.checked.items())), "blocked": list(self.blocked)}

    def flush(self) -> None:
        """Write the counts into ``audit.json`` (``wire``), keeping everything else there."""
        if self.path is None:
            return
        with self._lock:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {}
            except (OSError, ValueError):
                data = {}
        if not isinstance(data, dict):
            data = {}
        data["wire"] = self.summary()
        atomic_write_json(self.path, data)
