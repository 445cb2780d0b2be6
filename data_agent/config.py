"""Run configuration and presets (cpu / gpu / smoke), loaded from TOML + CLI overrides.

Every knob is one dataclass field, in the manner of TRL's ``*Config``, and
its field is its only declaration: the field's metadata holds

* ``help``: what it does (also the ``--help`` text of its option);
* ``cli``: its command-line option, e.g. ``"--rpm"`` or ``("--n-records", "-n")``
  (without one, a setting is set in a ``--config`` file only). The option of
  a ``bool`` setting is a flag that sets the opposite of the default
  (``--no-cache``);
* ``resumable``: a resumed run may change it (budgets, rates and concurrency:
  nothing that changes what is generated);
* ``min``: the smallest value allowed (checked whenever a configuration is
  built, so a bad file or option is a one-line :class:`ConfigError`).

:func:`settings` lists them; the options of ``specialize`` and ``resume``,
the settings a resumed run may change and the teacher runner's settings
(:class:`RunnerSettings`, :class:`BudgetSettings`) are derived from it. The
resolved configuration is written to ``config.json`` in the run directory (it
never holds secrets: API keys are read from the environment only).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import Field, asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_type_hints

from .errors import DataAgentError


class ConfigError(DataAgentError, ValueError):
    """A configuration file or option is invalid."""


def home_dir() -> Path:
    """data-agent's cache home: ``$DATA_AGENT_HOME`` or ``~/.cache/data-agent``."""
    return Path(os.environ.get("DATA_AGENT_HOME", Path.home() / ".cache" / "data-agent"))


class _Checked:
    """Base of the configuration dataclasses: checks the ``min`` of their fields
    on construction (and so on every ``replace``)."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            low, value = f.metadata.get("min"), getattr(self, f.name)
            if low is not None and value is not None and value < low:
                raise ConfigError(f"{f.name} must be at least {low}, got {value}")


@dataclass
class TrainConfig(_Checked):
    """How the student is fine-tuned. The same recipe and seed are used in every
    iteration, so iterations differ only by their data."""

    method: Literal["lora", "full"] = field(default="lora", metadata={
        "help": "lora trains PEFT LoRA adapters (merged into the weights after training); full updates every "
                "weight."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.0, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: str | list[str] = field(default="all-linear", metadata={
        "help": "Modules that receive adapters (PEFT's all-linear = every linear layer but the head)."})
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak learning rate."})
    num_train_epochs: float = field(default=3.0, metadata={"help": "Passes over the submission."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "Learning-rate schedule."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of steps spent warming up."})
    per_device_train_batch_size: int = field(default=8, metadata={
        "help": "Examples per optimiser step (before accumulation)."})
    gradient_accumulation_steps: int = field(default=1, metadata={
        "help": "Micro-batches accumulated per optimiser step."})
    max_length: int = field(default=768, metadata={
        "help": "Token limit per example (longer ones are truncated from the end)."})
    bf16: bool = field(default=False, metadata={"help": "bfloat16 mixed precision (GPU recipe)."})
    seed: int = field(default=42, metadata={"help": "Training seed (data order, dropout, LoRA init)."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalConfig(_Checked):
    """How the student is scored."""

    val_subset: int | None = field(default=40, metadata={
        "help": "Validation problems scored per iteration (a deterministic, source-stratified subset); unset "
                "(--full-eval), the whole split.", "cli": "--val-subset", "min": 1})
    test_subset: int | None = field(default=100, metadata={
        "help": "Test problems scored at the end, for the base student and the chosen iteration (same items for "
                "both); unset (--full-eval), the whole split.", "cli": "--test-subset", "min": 1})
    max_new_tokens: int = field(default=192, metadata={
        "help": "Decoding budget per problem (decoding stops early once every sequence has finished its answer "
                "sentence).", "cli": "--max-new-tokens"})
    batch_size: int = field(default=16, metadata={"help": "Problems decoded together (length-sorted, left-padded)."})


@dataclass
class RunnerSettings(_Checked):
    """The settings of the teacher runner that a run chooses. The runner's
    configuration (:class:`~data_agent.generators.engine.runner.RunnerConfig`)
    extends this class with its fixed knobs (backoff, circuit breaker, rate
    window), so a teacher session's runner settings are :class:`TeacherConfig`'s
    values of these fields."""

    max_concurrency: int = field(default=16, metadata={
        "help": "LLM teacher requests in flight at once.", "cli": "--concurrency", "resumable": True,
        "min": 1})
    requests_per_minute: int | None = field(default=None, metadata={
        "help": "LLM teacher requests per minute, paced evenly (one start every 60/rpm seconds, so no burst trips "
                "a provider's per-second enforcement); unlimited if unset.", "cli": "--rpm", "resumable": True})
    tokens_per_minute: int | None = field(default=None, metadata={
        "help": "LLM teacher tokens per minute (a call is charged its prompt estimate + max_tokens before it "
                "starts, corrected to the reported usage when it returns); unlimited if unset.", "cli": "--tpm",
        "resumable": True})
    max_retries: int = field(default=5, metadata={
        "help": "Retries of a request after a retryable failure (429, 5xx, timeouts, connection errors), so at "
                "most max_retries + 1 attempts; other errors are not retried.", "min": 0})
    timeout: float | None = field(default=120.0, metadata={
        "help": "Seconds before one attempt is abandoned (a retryable failure); local teachers have none."})
    max_reasks: int = field(default=2, metadata={
        "help": "Re-asks of a request whose reply is invalid against its JSON schema or truncated at max_tokens; "
                "then the response is an error, a counted rejection (hf: teachers are not re-asked).", "min": 0})
    use_cache: bool = field(default=True, metadata={
        "help": "Read and write the teacher response cache (identical requests of a run are merged, cached "
                "answers make no call); --no-cache does neither.", "cli": "--no-cache"})


@dataclass
class BudgetSettings(_Checked):
    """Spending limits of a run's teacher (``None`` = unlimited); the runner's
    :class:`~data_agent.generators.engine.budget.Budget` extends this class. A
    call is an attempt: retries and re-asks count."""

    max_calls: int | None = field(default=None, metadata={
        "help": "Teacher calls allowed in the run (retries and re-asks included).", "cli": "--max-calls",
        "resumable": True, "min": 0})
    max_total_tokens: int | None = field(default=None, metadata={
        "help": "Teacher tokens (prompt + completion) allowed in the run.", "cli": "--max-total-tokens",
        "resumable": True, "min": 0})
    max_dollars: float | None = field(default=None, metadata={
        "help": "Estimated teacher dollars allowed in the run.", "cli": "--max-dollars", "resumable": True,
        "min": 0})
    iteration_max_calls: int | None = field(default=None, metadata={
        "help": "Teacher calls allowed per iteration.", "cli": "--iteration-max-calls", "resumable": True,
        "min": 0})
    iteration_max_tokens: int | None = field(default=None, metadata={
        "help": "Teacher tokens allowed per iteration.", "cli": "--iteration-max-tokens", "resumable": True,
        "min": 0})
    iteration_max_dollars: float | None = field(default=None, metadata={
        "help": "Estimated teacher dollars allowed per iteration.", "cli": "--iteration-max-dollars",
        "resumable": True, "min": 0})


@dataclass
class TeacherConfig(BudgetSettings, RunnerSettings):
    """How LLM teachers are called (the symbolic teacher ignores all of this):
    the runner's settings, the budgets, and the requests themselves. API keys
    never go here: they are read from the environment (``OPENAI_API_KEY``,
    ``ANTHROPIC_API_KEY``)."""

    temperature: float = field(default=0.8, metadata={"help": "Sampling temperature of generation requests."})
    max_tokens: int = field(default=1024, metadata={"help": "Completion budget of one request."})
    cache_dir: str | None = field(default=None, metadata={
        "help": "Folder of the teacher response cache, teacher.sqlite (default: $DATA_AGENT_HOME/cache).",
        "cli": "--cache-dir"})
    prices: str | None = field(default=None, metadata={
        "help": "A TOML price table overriding the shipped one (data_agent/prices.toml).", "cli": "--prices"})


@dataclass
class RunConfig(_Checked):
    """One `specialize` run."""

    domain: str = field(default="science", metadata={"help": "Domain pack name (under domains/) or path."})
    preset: str = field(default="cpu", metadata={"help": "The preset these values came from (cpu, gpu or smoke)."})
    student: str = field(default="smollm2-135m", metadata={
        "help": "Student model: smollm2-135m (embedded), tiny-llama, a model directory or a hub name.",
        "cli": "--student"})
    teacher: str = field(default="symbolic", metadata={
        "help": "Teacher spec: symbolic (default; sympy-computed problems with exact answers, offline) or a model "
                "spec (openai:<model>, anthropic:<model>, openai-compatible:<url>@<model>, hf:<model>, ...).",
        "cli": "--teacher"})
    engineer: str = field(default="heuristic", metadata={
        "help": "Engineer spec: heuristic (default; the offline planner/reflector) or a model spec like "
                "--teacher's.", "cli": "--engineer"})
    n_records: int = field(default=64, metadata={
        "help": "Records in each iteration's submission (exactly this many valid records).",
        "cli": ("--n-records", "-n"), "min": 1})
    iterations: int = field(default=2, metadata={
        "help": "Plan -> generate -> validate -> train -> evaluate cycles.", "cli": "--iterations", "min": 1})
    max_generation_factor: float = field(default=4.0, metadata={
        "help": "Generation budget per iteration: at most n_records * factor teacher requests; the run stops with "
                "an error if fewer valid records result.", "cli": "--max-generation-factor", "resumable": True})
    seed: int = field(default=0, metadata={
        "help": "Seed for problem sampling (training uses train.seed).", "cli": "--seed"})
    selection: str = field(default="first", metadata={
        "help": "Which of each allocation's accepted records a submission keeps: first (the earliest requests) "
                "or random (a seeded sample); see data_agent/generators/selection.py.", "cli": "--selection"})
    keep_models: str = field(default="best", metadata={
        "help": "Which trained models stay on disk: best (the current best iteration) or all."})
    train: TrainConfig = field(default_factory=TrainConfig, metadata={
        "help": "How the student is fine-tuned ([train] in a config file)."})
    eval: EvalConfig = field(default_factory=EvalConfig, metadata={
        "help": "How the student is scored ([eval] in a config file)."})
    teachers: TeacherConfig = field(default_factory=TeacherConfig, metadata={
        "help": "How LLM teachers are called ([teachers] in a config file)."})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        train = TrainConfig(**d.pop("train", {}))
        ev = EvalConfig(**d.pop("eval", {}))
        tc = TeacherConfig(**d.pop("teachers", {}))
        return cls(**d, train=train, eval=ev, teachers=tc)


@dataclass(frozen=True)
class Setting:
    """One knob: a field of :class:`RunConfig` or of one of its sections."""

    key: str
    """Its name in overrides: ``"seed"``, ``"teachers.requests_per_minute"``."""
    field: Field
    """The dataclass field (default and metadata)."""
    type: Any
    """The field's type, resolved (``int | None``)."""

    @property
    def default(self) -> Any:
        return self.field.default

    @property
    def help(self) -> str:
        return self.field.metadata["help"]

    @property
    def flags(self) -> tuple[str, ...]:
        """The names of its command-line option (none: set in a config file only)."""
        cli = self.field.metadata.get("cli", ())
        return (cli,) if isinstance(cli, str) else tuple(cli)

    @property
    def resumable(self) -> bool:
        """Whether a resumed run may change it."""
        return bool(self.field.metadata.get("resumable", False))

    @property
    def minimum(self) -> Any:
        """The smallest value allowed (``None``: any)."""
        return self.field.metadata.get("min")


def settings(cls: type = RunConfig, prefix: str = "") -> list[Setting]:
    """Every knob of ``cls`` and of its sections (``train``, ``eval``,
    ``teachers``), in declaration order."""
    hints = get_type_hints(cls)
    out: list[Setting] = []
    for f in fields(cls):
        if is_dataclass(hints[f.name]):
            out += settings(hints[f.name], f"{prefix}{f.name}.")
        else:
            out.append(Setting(prefix + f.name, f, hints[f.name]))
    return out


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
    return cfg
