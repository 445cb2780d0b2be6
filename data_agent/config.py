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
* ``min``, ``gt``, ``max``: the smallest value allowed, a bound the value must
  exceed, the largest value allowed;
* ``choices``: the values a string setting may take;
* ``force_above``: a bound above which :func:`load_config` wants ``force``
  (``--force``).

A value is checked against its field's type (``int``, ``float``, ``int | None``,
``Literal[...]``...; an int is a float, a bool is not an int) and that metadata
whenever it is set: a configuration object never holds a bad value, and a bad
file, option or resume override is a one-line :class:`ConfigError` naming the
file and the key, before any work starts.

:func:`settings` lists them; the options of ``specialize`` and ``resume``,
the settings a resumed run may change and the teacher runner's settings
(:class:`RunnerSettings`, :class:`BudgetSettings`) are derived from it. The
resolved configuration is written to ``config.json`` in the run directory (it
never holds secrets: API keys are read from the environment only).
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from dataclasses import Field, asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .errors import DataAgentError
from .records import read_text

SELECTION_POLICIES = ("first", "random", "verified_first", "k_center", "loss", "el2n", "coverage")
"""The selection policies a run or a plan may name (:mod:`data_agent.generators.selection` implements them)."""
MAX_OVERGENERATE = 4.0
"""The most a run or a plan may over-generate: accepted records per record kept."""


class ConfigError(DataAgentError, ValueError):
    """A configuration file or option is invalid."""


def home_dir() -> Path:
    """data-agent's cache home: ``$DATA_AGENT_HOME`` or ``~/.cache/data-agent``."""
    return Path(os.environ.get("DATA_AGENT_HOME", Path.home() / ".cache" / "data-agent"))


N_RECORDS_FORCE_ABOVE = 100_000
"""The most records per submission a run takes without ``force`` (``--force``):
more is almost certainly a typo, and would spend hours of teacher calls."""


class FieldError(ConfigError):
    """A field's value is invalid: ``key`` names it (``"train.learning_rate"``)
    and ``problem`` says what is wrong (``"expected a number, got 'fast'"``)."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem

    def within(self, section: str) -> "FieldError":
        """The same error for the field as a key of ``section`` (``"train"``)."""
        return FieldError(f"{section}.{self.key}", self.problem)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(hint: Any) -> str:
    """What a value of type ``hint`` is, in words ("an integer", "one of lora, full")."""
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if origin is list:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s" if args else "a list"
    if origin in (Union, UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if is_dataclass(hint):
        return "a table"
    return getattr(hint, "__name__", str(hint))


def _matches(hint: Any, value: Any) -> bool:
    """Whether ``value`` is of type ``hint``: an int is a float, a bool is not an
    int; types this module does not declare settings with are not checked."""
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (Union, UnionType):
        return any(_matches(a, value) for a in args)
    if origin is list:
        return isinstance(value, list) and (not args or all(_matches(args[0], v) for v in value))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def check_value(f: Field, hint: Any, value: Any) -> str | None:
    """What is wrong with ``value`` for the field ``f`` of type ``hint`` (its
    type, then its metadata ``min``, ``gt``, ``max`` and ``choices``), or
    ``None`` if nothing is."""
    if not _matches(hint, value):
        return f"expected {_describe(hint)}, got {_show(value)}"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {_show(value)}"
    meta = f.metadata
    if isinstance(value, (int, float)):
        if meta.get("min") is not None and value < meta["min"]:
            return f"must be at least {meta['min']}, got {_show(value)}"
        if meta.get("gt") is not None and value <= meta["gt"]:
            return f"must be greater than {meta['gt']}, got {_show(value)}"
        if meta.get("max") is not None and value > meta["max"]:
            return f"must be at most {meta['max']}, got {_show(value)}"
    if meta.get("choices") is not None and value not in meta["choices"]:
        return f"expected one of {', '.join(meta['choices'])}, got {_show(value)}"
    return None


@functools.cache
def _checked_fields(cls: type) -> dict[str, tuple[Field, Any]]:
    """The fields of ``cls`` that declare a setting (``help``) or a range, with
    their resolved types."""
    hints = get_type_hints(cls)
    return {f.name: (f, hints[f.name]) for f in fields(cls)
            if {"help", "min", "gt", "max", "choices"} & set(f.metadata)}


class _Checked:
    """Base of the configuration dataclasses: every value given to a field that
    declares a setting is checked against the field's type and its ``min``,
    ``gt``, ``max`` and ``choices`` when it is set, on construction (and so on
    every ``replace``) and on assignment; a bad one raises :class:`FieldError`."""

    def __setattr__(self, name: str, value: Any) -> None:
        checked = _checked_fields(type(self)).get(name)
        if checked is not None:
            problem = check_value(*checked, value)
            if problem is not None:
                raise FieldError(name, problem)
        object.__setattr__(self, name, value)

    def __post_init__(self) -> None:
        """Subclasses with checks of their own call this first."""


LR_SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
                 "inverse_sqrt")
"""The ``train.lr_scheduler_type`` values: transformers' schedulers that take no
arguments of their own."""


@dataclass
class TrainConfig(_Checked):
    """How the student is fine-tuned. The same recipe and seed are used in every
    iteration, so iterations differ only by their data."""

    method: Literal["lora", "full"] = field(default="lora", metadata={
        "help": "lora trains PEFT LoRA adapters (merged into the weights after training); full updates every "
                "weight."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank.", "min": 1})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (scale = alpha / r).", "min": 1})
    lora_dropout: float = field(default=0.0, metadata={"help": "Dropout on the LoRA path.", "min": 0, "max": 1})
    lora_target_modules: str | list[str] = field(default="all-linear", metadata={
        "help": "Modules that receive adapters (PEFT's all-linear = every linear layer but the head)."})
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak learning rate.", "gt": 0})
    num_train_epochs: float = field(default=3.0, metadata={"help": "Passes over the submission.", "gt": 0})
    lr_scheduler_type: str = field(default="cosine", metadata={
        "help": "Learning-rate schedule (a transformers scheduler that needs no arguments of its own).",
        "choices": LR_SCHEDULERS})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of steps spent warming up.", "min": 0,
                                                       "max": 1})
    per_device_train_batch_size: int = field(default=8, metadata={
        "help": "Examples per optimiser step (before accumulation).", "min": 1})
    gradient_accumulation_steps: int = field(default=1, metadata={
        "help": "Micro-batches accumulated per optimiser step.", "min": 1})
    max_length: int = field(default=768, metadata={
        "help": "Token limit per example (longer ones are truncated from the end).", "min": 1})
    bf16: bool = field(default=True, metadata={
        "help": "bfloat16 autocast where the hardware has native bf16 (a GPU with bf16, a CPU with avx512_bf16 or "
                "AMX); elsewhere, and when false, fp32. The precision used is in each iteration's train_stats.json."})
    gradient_checkpointing: bool = field(default=False, metadata={
        "help": "Recompute activations in the backward pass instead of keeping them (saves memory, costs about a "
                "third more compute; TRL turns it on by default, a small student does not need it)."})
    lora_layers: int | None = field(default=None, metadata={
        "help": "Put LoRA adapters on the top K decoder layers only, so the backward pass stops below them; unset, "
                "every layer.", "min": 1})
    batching: Literal["padded", "group_by_length", "padding_free"] = field(default="padded", metadata={
        "help": "How examples are batched: padded (random batches, padded to the longest), group_by_length "
                "(batches of similar length, less padding) or padding_free (sequences concatenated without "
                "padding; attention kept within each sequence by its position ids)."})
    seed: int = field(default=42, metadata={"help": "Training seed (data order, dropout, LoRA init).", "min": 0})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay.", "min": 0})

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
                "sentence).", "cli": "--max-new-tokens", "min": 1})
    batch_size: int = field(default=16, metadata={"help": "Problems decoded together (length-sorted, left-padded; "
                                                  "a finished sequence leaves its batch).", "min": 1})
    bf16: bool = field(default=True, metadata={
        "help": "Decode in bfloat16 where the hardware has it natively (else, and when false, fp32); the same for "
                "the base and the trained student."})
    backend: Literal["hf", "vllm"] = field(default="hf", metadata={
        "help": "What decodes the student: hf (transformers, CPU or GPU) or vllm (the vllm extra, a GPU; the same "
                "prompts, token limit and stop rule)."})
    stop_loops: bool = field(default=True, metadata={
        "help": "Stop a sequence that has degenerated into a repetition loop (scored as no answer, as it would be "
                "at the token limit); the same for the base and the trained student."})


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
                "a provider's per-second enforcement); unlimited if unset (0 is not a way to unset it).", "cli": "--rpm",
        "resumable": True, "min": 1})
    tokens_per_minute: int | None = field(default=None, metadata={
        "help": "LLM teacher tokens per minute (a call is charged its prompt estimate + max_tokens before it "
                "starts, corrected to the reported usage when it returns); unlimited if unset (0 is not a way to unset it).",
        "cli": "--tpm", "resumable": True, "min": 1})
    max_retries: int = field(default=5, metadata={
        "help": "Retries of a request after a retryable failure (429, 5xx, timeouts, connection errors), so at "
                "most max_retries + 1 attempts; other errors are not retried.", "min": 0})
    timeout: float | None = field(default=120.0, metadata={
        "help": "Seconds before one attempt is abandoned (a retryable failure); local teachers have none.",
        "gt": 0})
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

    temperature: float = field(default=0.8, metadata={"help": "Sampling temperature of generation requests.",
                                                      "min": 0})
    max_tokens: int = field(default=1024, metadata={"help": "Completion budget of one request.", "min": 1})
    verify: str = field(default="when_given", metadata={
        "help": "Machine checks of a teacher's answers (data_agent/validators/verify.py): when_given (a record "
                "whose computation or program disagrees with its answer is rejected; one without is kept as "
                "unverified), required (records that cannot be checked are rejected too) or off (LLM teachers "
                "are not asked for a computation).", "cli": "--verify", "choices": ("when_given", "required", "off")})
    self_consistency: int = field(default=1, metadata={
        "help": "Solutions per new problem for self-consistency: above 1, the teacher solves each problem k - 1 "
                "more times without its answer, and the record's answer must win the vote (LLM teachers only).",
        "cli": "--self-consistency", "min": 1, "max": 16})
    agreement: float = field(default=0.5, metadata={
        "help": "Self-consistency: the share of the k solutions that must give the record's answer.",
        "cli": "--agreement", "min": 0, "max": 1})
    cache_dir: str | None = field(default=None, metadata={
        "help": "Folder of the teacher response cache, teacher.sqlite (default: $DATA_AGENT_HOME/cache).",
        "cli": "--cache-dir"})
    prices: str | None = field(default=None, metadata={
        "help": "A TOML price table overriding the shipped one (data_agent/prices.toml).", "cli": "--prices"})


@dataclass
class RunConfig(_Checked):
    """One `specialize` run."""

    domain: str = field(default="science", metadata={"help": "Domain pack name (under domains/) or path."})
    preset: str = field(default="cpu", metadata={"help": "The preset these values came from (cpu, gpu or smoke).",
                                                 "choices": ("cpu", "gpu", "smoke")})
    student: str = field(default="smollm2-135m", metadata={
        "help": "Student model: smollm2-135m (embedded), tiny-llama, a model directory or a hub name.",
        "cli": "--student"})
    teacher: str = field(default="symbolic", metadata={
        "help": "Teacher spec: symbolic (default; sympy-computed problems with exact answers, offline) or a model "
                "spec (openai:<model>, anthropic:<model>, openai-compatible:<url>@<model>, hf:<model>, ...).",
        "cli": "--teacher"})
    engineer: str = field(default="heuristic", metadata={
        "help": "Engineer spec: heuristic (default; the offline planner/reflector), uniform (the control: the "
                "records spread evenly over the topics, no reflection) or a model spec like --teacher's.",
        "cli": "--engineer"})
    scaffold: str = field(default="adapt", metadata={
        "help": "LLM engineers: adapt (every plan cites a method card from data_agent/engineer/cards/ and says how "
                "it adapts it, and takes it from another bucket when validation did not improve) or open (the "
                "choice is free). The heuristic engineer chooses cards by rule either way.",
        "cli": "--scaffold", "choices": ("adapt", "open")})
    n_records: int = field(default=64, metadata={
        "help": "Records in each iteration's submission (exactly this many valid records); more than "
                f"{N_RECORDS_FORCE_ABOVE:,} needs --force.",
        "cli": ("--n-records", "-n"), "min": 1, "force_above": N_RECORDS_FORCE_ABOVE})
    iterations: int = field(default=2, metadata={
        "help": "Plan -> generate -> validate -> train -> evaluate cycles (at most, with --patience).",
        "cli": "--iterations", "min": 1})
    patience: int | None = field(default=None, metadata={
        "help": "Stopping rule: stop iterating once this many iterations in a row brought no validation gain "
                "beyond the interval (accuracy above the upper end of the best so far's 95% CI); unset: run every "
                "iteration.", "cli": "--patience", "min": 1})
    max_generation_factor: float = field(default=4.0, metadata={
        "help": "Generation budget per iteration: at most n_records * factor teacher requests; the run stops with "
                "an error if fewer valid records result.", "cli": "--max-generation-factor", "gt": 0,
        "resumable": True})
    seed: int = field(default=0, metadata={
        "help": "Seed for problem sampling (training uses train.seed).", "cli": "--seed"})
    selection: str = field(default="first", metadata={
        "help": "Which of each allocation's accepted records a submission keeps, unless the plan names a policy: "
                "first (the earliest requests), random (a seeded sample), verified_first (answers checked by a "
                "program first), k_center (the most diverse inputs), loss or el2n (those the current student finds "
                "hardest) or coverage (every sub-skill before repeats); see data_agent/generators/selection.py.",
        "cli": "--selection", "choices": SELECTION_POLICIES})
    overgenerate: float = field(default=1.0, metadata={
        "help": "Accepted records generated per record kept, unless the plan says otherwise: above 1 the selection "
                "policy chooses among more candidates than it keeps (within --max-generation-factor's budget).",
        "cli": "--overgenerate", "min": 1, "max": MAX_OVERGENERATE})
    pool: str | None = field(default=None, metadata={
        "help": "Curation: select each iteration's records from this JSONL pool instead of asking a teacher "
                "(`data-agent curate --pool FILE`; see data_agent/generators/curate.py)."})
    keep_models: str = field(default="best", metadata={
        "help": "Which trained models stay on disk: best (the current best iteration) or all.",
        "choices": ("best", "all")})
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
        """The configuration ``to_dict`` wrote; a bad value raises :class:`FieldError`
        naming its key (``"train.learning_rate"``)."""
        d = dict(d)
        sections = {}
        for name, kind in (("train", TrainConfig), ("eval", EvalConfig), ("teachers", TeacherConfig)):
            try:
                sections[name] = kind(**d.pop(name, {}))
            except FieldError as e:
                raise e.within(name) from None
        return cls(**d, **sections)


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

    @property
    def maximum(self) -> Any:
        """The largest value allowed (``None``: any)."""
        return self.field.metadata.get("max")

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The values allowed (``None``: any of its type)."""
        return self.field.metadata.get("choices")

    @property
    def force_above(self) -> Any:
        """The bound above which a value needs ``force`` (``None``: none)."""
        return self.field.metadata.get("force_above")

    def check(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this setting, or ``None``."""
        return check_value(self.field, self.type, value)


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
    # Sized for the 20-minute quick start on a 2-core CPU (scripts/measure_quickstart.sh). LoRA rather than
    # full fine-tuning because it measured faster here (scripts/bench_cpu_finetune.py), on the top 16 of the
    # student's 30 layers so that the backward pass stops there, length-grouped batches and no gradient
    # checkpointing (scripts/bench_sft.py measures each); one epoch in 32 steps of 2 examples at a high
    # learning rate: on the same 64 records and 32 validation problems this reached 78% format compliance
    # where top 8 layers reached 53% (lr 1e-3), 41% (lr 4e-4, 2 epochs) and 34% (lr 4e-4, 1 epoch).
    # Scoring: 24 rows per decoding batch, finished rows replaced (scripts/bench_eval.py).
    return RunConfig(
        preset="cpu",
        n_records=64,
        iterations=2,
        train=TrainConfig(method="lora", lora_r=16, lora_alpha=32, lora_dropout=0.0, learning_rate=1e-3,
                          num_train_epochs=1, per_device_train_batch_size=2, max_length=640,
                          lr_scheduler_type="cosine", warmup_ratio=0.1, seed=42, lora_layers=16,
                          batching="group_by_length", gradient_checkpointing=False),
        eval=EvalConfig(val_subset=32, test_subset=80, max_new_tokens=224, batch_size=24),
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


def _merge(cfg: Any, updates: dict[str, Any], where: str, section: str = "") -> Any:
    """``cfg`` with ``updates`` (a TOML table: sections are tables) applied. An
    unknown key raises :class:`ConfigError` starting with ``where``; a bad value,
    :class:`FieldError` naming its key (``"train.learning_rate"``)."""
    names = {f.name for f in fields(cfg)}
    changes = {}
    for k, v in updates.items():
        key = section + k
        if k not in names:
            raise ConfigError(f"{where}: unknown option {key!r} (known: {', '.join(sorted(names))})")
        cur = getattr(cfg, k)
        if is_dataclass(cur):
            if not isinstance(v, dict):
                raise FieldError(key, f"expected a table ([{key}]), got {_show(v)}")
            changes[k] = _merge(cur, v, where, f"{key}.")
        else:
            changes[k] = v
    try:
        return replace(cfg, **changes)
    except FieldError as e:
        raise (e.within(section.rstrip(".")) if section else e) from None


def _option(key: str) -> str:
    """``key`` and its command-line option: ``"teachers.requests_per_minute (--rpm)"``."""
    s = next((s for s in settings() if s.key == key), None)
    return f"{key} ({s.flags[0]})" if s is not None and s.flags else key


def apply_overrides(cfg: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """``cfg`` with ``{"field": v, "section.field": v}`` applied (``None`` values
    ignored); a bad key or value raises a one-line :class:`ConfigError` naming
    the key and its command-line option."""
    nested: dict[str, Any] = {}
    for k, v in overrides.items():
        if v is None:
            continue
        head, _, rest = k.partition(".")
        if rest:
            nested.setdefault(head, {})
            if not isinstance(nested[head], dict):
                raise ConfigError(f"options: {head} is a section, not a value")
            nested[head][rest] = v
        else:
            nested[k] = v
    try:
        return _merge(cfg, nested, "options")
    except FieldError as e:
        raise ConfigError(f"{_option(e.key)}: {e.problem}") from None


def check_force(cfg: RunConfig, force: bool = False) -> None:
    """Refuse a value above its setting's ``force_above`` bound (e.g. more than
    :data:`N_RECORDS_FORCE_ABOVE` records) unless ``force``."""
    if force:
        return
    for s in settings():
        bound = s.force_above
        if bound is None:
            continue
        value = functools.reduce(getattr, s.key.split("."), cfg)
        if value is not None and value > bound:
            raise ConfigError(f"{_option(s.key)}: {value:,} is above the bound of {bound:,}, almost certainly a "
                              f"mistake; lower it, or pass --force to run it anyway")


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's content; a missing, unreadable, non-UTF-8 or malformed file
    raises a one-line :class:`ConfigError` naming it."""
    text = read_text(Path(path), ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None


def load_config(preset: str = "cpu", file: Path | None = None, overrides: dict[str, Any] | None = None,
                force: bool = False) -> RunConfig:
    """Preset, then a TOML file, then CLI overrides (``None`` values ignored).

    Every value is checked (type, range, allowed values) as it is set, and a
    value above its setting's ``force_above`` bound needs ``force``: a bad one
    raises a one-line :class:`ConfigError` naming the file (or option) and the
    key, before anything is created."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    cfg = PRESETS[preset]()
    if file is not None:
        try:
            cfg = _merge(cfg, read_toml(file), str(file))
        except FieldError as e:
            raise ConfigError(f"{file}: {e}") from None
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    check_force(cfg, force)
    return cfg
