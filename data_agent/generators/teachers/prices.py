"""The price table: ``backend:model`` → $ per million input/output tokens and
batch discount, from a user-editable TOML (shipped default:
``data_agent/prices.toml``, overridden by ``$DATA_AGENT_PRICES`` and an explicit
path).

It lives with the teachers because :func:`~data_agent.generators.teachers.specs.build_teacher`
prices the backends' own cost field from it; the runner costs responses from
the same table.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .base import Usage

__all__ = ["DEFAULT_PRICES_PATH", "PRICES_ENV_VAR", "ModelPrice", "PriceTable"]

logger = logging.getLogger(__name__)

DEFAULT_PRICES_PATH = Path(__file__).resolve().parents[2] / "prices.toml"
PRICES_ENV_VAR = "DATA_AGENT_PRICES"


@dataclass(frozen=True)
class ModelPrice:
    """Price of one model."""

    input: float
    """US dollars per million prompt tokens."""
    output: float
    """US dollars per million completion tokens."""
    batch_discount: float = 0.0
    """Fraction taken off for batch APIs (0.5 = half price)."""

    def __post_init__(self) -> None:
        if self.input < 0 or self.output < 0:
            raise ValueError("prices must be >= 0")
        if not 0.0 <= self.batch_discount < 1.0:
            raise ValueError(f"batch_discount must be in [0, 1), got {self.batch_discount}")


_SNAPSHOT_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


@dataclass
class PriceTable:
    """``backend:model`` → :class:`ModelPrice`."""

    prices: dict[str, ModelPrice] = field(default_factory=dict)
    """Entries keyed by lower-case ``backend:model`` (or ``backend:*``)."""
    _warned: set[str] = field(default_factory=set, init=False, repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "PriceTable":
        """The shipped table, overridden by ``$DATA_AGENT_PRICES`` (if set), then
        by ``path`` (if given). Overrides replace only the fields they give."""
        table = cls()
        table.update_from_toml(DEFAULT_PRICES_PATH)
        env_path = os.environ.get(PRICES_ENV_VAR)
        if env_path:
            table.update_from_toml(env_path)
        if path is not None:
            table.update_from_toml(path)
        return table

    def update_from_toml(self, path: str | Path) -> None:
        """Merge a TOML price file into this table.

        Entries are tables keyed ``"backend:model"``; a nested form
        ``[openai."gpt-4.1"]`` is accepted too.
        """
        path = Path(path)
        with path.open("rb") as f:
            data = tomllib.load(f)
        for key, value in data.items():
            if not isinstance(value, dict):
                raise ValueError(f"{path}: {key!r} must be a table of prices")
            if ":" not in key and not ({"input", "output", "batch_discount"} & value.keys()):
                entries = {f"{key}:{model}": v for model, v in value.items()}  # nested [backend."model"]
            else:
                entries = {key: value}
            for spec, entry in entries.items():
                self._merge(path, spec, entry)

    def _merge(self, path: Path, spec: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: {spec!r} must be a table of prices")
        unknown = set(entry) - {"input", "output", "batch_discount"}
        if unknown:
            raise ValueError(f"{path}: {spec!r} has unknown fields {sorted(unknown)}")
        spec = spec.lower()
        old = self.prices.get(spec)
        merged = asdict(old) if old else {}
        merged.update({k: float(v) for k, v in entry.items()})
        if "input" not in merged or "output" not in merged:
            raise ValueError(f"{path}: {spec!r} needs both 'input' and 'output' ($ per million tokens)")
        self.prices[spec] = ModelPrice(**merged)

    def lookup(self, model_spec: str) -> ModelPrice | None:
        """Price for ``backend:model``: exact entry, else the undated entry of a
        dated snapshot, else ``backend:*``. Without a backend prefix, any backend's
        entry for that model."""
        spec = model_spec.lower().strip()
        candidates = [spec]
        undated = _SNAPSHOT_SUFFIX.sub("", spec)
        if undated != spec:
            candidates.append(undated)
        for c in candidates:
            if c in self.prices:
                return self.prices[c]
        if ":" in spec:
            return self.prices.get(spec.split(":", 1)[0] + ":*")
        for c in candidates:
            for key, price in self.prices.items():
                if key.split(":", 1)[-1] == c:
                    return price
        return None

    def cost(self, model_spec: str, usage: Usage, batch: bool = False) -> float:
        """Dollars for ``usage`` on ``model_spec``; batch APIs get the discount.
        Unknown models cost 0 (warned once per model)."""
        price = self.lookup(model_spec)
        if price is None:
            if model_spec not in self._warned:
                self._warned.add(model_spec)
                logger.warning("No price known for %r: its cost counts as $0 (dollar budgets cannot limit it). "
                               "Add it to a prices TOML (see data_agent/prices.toml).", model_spec)
            return 0.0
        dollars = (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000
        if batch:
            dollars *= 1.0 - price.batch_discount
        return dollars

    def __contains__(self, model_spec: str) -> bool:
        return self.lookup(model_spec) is not None
