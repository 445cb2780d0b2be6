"""Run configuration and presets (cpu / gpu / smoke), loaded from TOML + CLI overrides.

Every knob is a documented dataclass field, in the manner of TRL's ``*Config``.
The resolved configuration is written to ``config.json`` in the run directory
(it never holds secrets: API keys are read from the environment only).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import DataAgentError


class ConfigError(DataAgentError):
    """A configuration file or option is invalid."""


def home_dir() -> Path:
    """data-agent's cache home: ``$DATA_AGENT_HOME`` or ``~/.cache/data-agent``."""
    return Path(os.environ.get("DATA_AGENT_HOME", Path.home() / ".cache" / "data-agent"))


@dataclass
class TrainConfig:
    """How the student is fine-tuned. The same recipe and seed are used in every
    iteration, so iterations differ only by their data."""

    method: Literal["lora", "full"] = "lora"
    """``lora`` trains PEFT LoRA adapters (merged into the weights after training);
    ``full`` updates every weight."""
    lora_r: int = 8
    """LoRA rank."""
    lora_alpha: int = 16
    """LoRA scaling numerator (scale = alpha / r)."""
    lora_dropout: float = 0.0
    """Dropout on the LoRA path."""
    lora_target_modules: str | list[str] = "all-linear"
    """Modules that receive adapters (PEFT's ``all-linear`` = every linear layer but the head)."""
    learning_rate: float = 1e-4
    """Peak learning rate."""
    num_train_epochs: float = 3.0
    """Passes over the submission."""
    lr_scheduler_type: str = "cosine"
    """Learning-rate schedule."""
    warmup_ratio: float = 0.1
    """Share of steps spent warming up."""
    per_device_train_batch_size: int = 8
    """Examples per optimiser step (before accumulation)."""
    gradient_accumulation_steps: int = 1
    """Micro-batches accumulated per optimiser step."""
    max_length: int = 768
    """Token limit per example (longer ones are truncated from the end)."""
    bf16: bool = False
    """bfloat16 mixed precision (GPU recipe)."""
    seed: int = 42
    """Training seed (data order, dropout, LoRA init)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalConfig:
    """How the student is scored."""

    val_subset: int | None = 40
    """Validation problems scored per iteration (a deterministic, source-stratified
    subset); ``None`` scores the whole split."""
    test_subset: int | None = 100
    """Test problems scored at the end, for the base student and the chosen
    iteration (same items for both); ``None`` scores the whole split."""
    max_new_tokens: int = 192
    """Decoding budget per problem (decoding stops early once every sequence has
    finished its answer sentence)."""
    batch_size: int = 16
    """Problems decoded together (length-sorted, left-padded)."""


@dataclass
class TeacherConfig:
    """How LLM teachers are called (the symbolic teacher ignores all of this).
    Limits of ``None`` mean unlimited. API keys never go here: they are read from
    the environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``)."""

    max_concurrency: int = 16
    """Requests in flight at once."""
    requests_per_minute: int | None = None
    """Request rate cap."""
    tokens_per_minute: int | None = None
    """Token rate cap (prompt estimate + max_tokens, corrected after each reply)."""
    max_retries: int = 5
    """Retries of a request on 429, 5xx, timeouts and connection errors."""
    timeout: float = 120.0
    """Seconds before a request times out."""
    max_reasks: int = 2
    """Re-asks of a request whose reply is not a valid JSON document."""
    temperature: float = 0.8
    """Sampling temperature of generation requests."""
    max_tokens: int = 1024
    """Completion budget of one request."""
    use_cache: bool = True
    """Look up and store responses in the SQLite response cache."""
    cache_dir: str | None = None
    """Folder of ``teacher.sqlite`` (default ``$DATA_AGENT_HOME/cache``)."""
    prices: str | None = None
    """A TOML price table overriding the shipped one (``data_agent/prices.toml``)."""
    max_calls: int | None = None
    """Teacher calls allowed in the run (retries and re-asks included)."""
    max_total_tokens: int | None = None
    """Tokens allowed in the run."""
    max_dollars: float | None = None
    """Estimated dollars allowed in the run."""
    iteration_max_calls: int | None = None
    """Teacher calls allowed per iteration."""
    iteration_max_tokens: int | None = None
    """Tokens allowed per iteration."""
    iteration_max_dollars: float | None = None
    """Estimated dollars allowed per iteration."""


@dataclass
class RunConfig:
    """One `specialize` run."""

    domain: str = "science"
    """Domain pack name (under ``domains/``) or path."""
    preset: str = "cpu"
    """The preset these values came from (cpu, gpu or smoke)."""
    student: str = "smollm2-135m"
    """Student model: ``smollm2-135m`` (embedded), ``tiny-llama``, a model directory or a hub name."""
    teacher: str = "symbolic"
    """Teacher spec; ``symbolic`` = sympy-computed problems with exact answers (offline)."""
    engineer: str = "heuristic"
    """Engineer spec; ``heuristic`` = the offline planner/reflector."""
    n_records: int = 64
    """Records in each iteration's submission (exactly this many valid records)."""
    iterations: int = 2
    """Plan -> generate -> validate -> train -> evaluate cycles."""
    max_generation_factor: float = 4.0
    """Generation budget per iteration: at most ``n_records * factor`` teacher
    requests; the run stops with an error if fewer valid records result."""
    seed: int = 0
    """Seed for problem sampling; training uses ``train.seed``."""
    keep_models: str = "best"
    """Which trained models stay on disk: ``best`` (the current best iteration) or ``all``."""
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    teachers: TeacherConfig = field(default_factory=TeacherConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        train = TrainConfig(**d.pop("train", {}))
        ev = EvalConfig(**d.pop("eval", {}))
        tc = TeacherConfig(**d.pop("teachers", {}))
        return cls(**d, train=train, eval=ev, teachers=tc)


def _cpu() -> RunConfig:
    # Sized for the 30-minute budget on a 2-core CPU. LoRA rather than full fine-tuning because it measured
    # faster here (scripts/bench_cpu_finetune.py); a higher learning rate than the GPU recipe because a CPU
    # run affords only a few dozen optimiser steps.
    return RunConfig(
        preset="cpu",
        n_records=64,
        iterations=2,
        train=TrainConfig(method="lora", lora_r=16, lora_alpha=32, lora_dropout=0.0, learning_rate=4e-4,
                          num_train_epochs=2, per_device_train_batch_size=4, max_length=640,
                          lr_scheduler_type="cosine", warmup_ratio=0.1, seed=42),
        eval=EvalConfig(val_subset=32, test_subset=80, max_new_tokens=224, batch_size=16),
    )


def _gpu() -> RunConfig:
    # The DataAgent recipe: LoRA r=8, alpha=16, dropout 0, lr 1e-4, 3 epochs, cosine, warmup 0.1, bf16.
    return RunConfig(
        preset="gpu",
        n_records=1000,
        iterations=3,
        train=TrainConfig(method="lora", lora_r=8, lora_alpha=16, lora_dropout=0.0, learning_rate=1e-4,
                          num_train_epochs=3, lr_scheduler_type="cosine", warmup_ratio=0.1, bf16=True,
                          per_device_train_batch_size=16, max_length=1024, seed=42),
        eval=EvalConfig(val_subset=None, test_subset=None, max_new_tokens=512, batch_size=64),
    )


def _smoke() -> RunConfig:
    return RunConfig(
        preset="smoke",
        student="tiny-llama",
        n_records=8,
        iterations=2,
        train=TrainConfig(method="full", learning_rate=1e-3, num_train_epochs=1, per_device_train_batch_size=4,
                          max_length=640, seed=42),
        eval=EvalConfig(val_subset=6, test_subset=6, max_new_tokens=8, batch_size=8),
    )


PRESETS = {"cpu": _cpu, "gpu": _gpu, "smoke": _smoke}


def _merge(cfg: Any, updates: dict[str, Any], where: str) -> Any:
    names = {f.name: f for f in fields(cfg)}
    changes = {}
    for k, v in updates.items():
        if k not in names:
            raise ConfigError(f"{where}: unknown option {k!r} (known: {', '.join(sorted(names))})")
        cur = getattr(cfg, k)
        if hasattr(cur, "__dataclass_fields__"):
            if not isinstance(v, dict):
                raise ConfigError(f"{where}: {k!r} must be a table")
            changes[k] = _merge(cur, v, f"{where}.{k}")
        else:
            changes[k] = v
    return replace(cfg, **changes)


def apply_overrides(cfg: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """``cfg`` with ``{"field": v, "section.field": v}`` applied (``None`` values ignored)."""
    flat = {k: v for k, v in overrides.items() if v is not None and "." not in k}
    nested: dict[str, dict[str, Any]] = {}
    for k, v in overrides.items():
        if v is not None and "." in k:
            a, b = k.split(".", 1)
            nested.setdefault(a, {})[b] = v
    return _merge(cfg, {**flat, **nested}, "options")


def load_config(preset: str = "cpu", file: Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Preset, then a TOML file, then CLI overrides (``None`` values ignored)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    cfg = PRESETS[preset]()
    if file is not None:
        try:
            data = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{file}: {e}") from None
        cfg = _merge(cfg, data, str(file))
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    if cfg.n_records < 1:
        raise ConfigError("n_records must be at least 1")
    if cfg.iterations < 1:
        raise ConfigError("iterations must be at least 1")
    return cfg
