"""A run's data as a Hugging Face dataset with a dataset card: ``data-agent export``.

:func:`export` reads a run directory (finished or not) and writes a
:class:`datasets.DatasetDict` to a folder, as Parquet or JSON Lines files under
``data/`` (the Hub's layout) or as ``save_to_disk`` Arrow files, next to a
``README.md`` dataset card with the Hub's YAML header. What it holds:

* ``what="submission"``: the chosen iteration's submission as ``train``;
* ``what="pool"``: every generated record of every iteration, accepted and
  rejected, with the validators' verdicts, as ``train``;
* ``what="accepted"``: the accepted records of every iteration's pool as ``train``;

and with ``all_iterations`` one more split per iteration (``iter_01``,
``iter_02``, ...) holding that iteration's records of the same kind. Every
record keeps its lineage beside the submission fields (:data:`COLUMNS`).

The card states the domain, the task, the licence and attribution of the seeds
and evaluation data (the pack's manifest), the teacher(s), engineer and student,
record counts and rejections by reason (``iter-NN/generation.json``), the
decontamination setting and its rejections, the student's validation and test
results with their intervals (``metrics.json``) and the command and
configuration that made the data (``config.json``). A run that has not finished
is exported as far as it goes, and its card says so first.

``push_to_hub`` uploads the folder to a dataset repository with
``huggingface_hub``, with the token of the ``HF_TOKEN`` environment variable
(never written or logged); offline (``HF_HUB_OFFLINE``), without a token or
without a connection it fails with one line before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import PRESETS, settings
from .domain import Domain, load_domain
from .errors import DataAgentError
from .logging_utils import redact
from .records import atomic_write_text, read_json, read_pool_rows, read_submission
from .tasks.base import AnswerAgreementValidator

FORMATS = ("parquet", "jsonl", "arrow")
"""The file formats :func:`export` writes."""

WHAT = ("submission", "pool", "accepted")
"""What :func:`export` can export: the chosen submission, the whole pool(s), or their accepted records."""

SUBMISSION_FIELDS = ("instruction", "input", "output")

COLUMNS: dict[str, str] = {
    "instruction": "the domain's instruction (as in submission.json)",
    "input": "the problem (as in submission.json)",
    "output": "the worked solution ending with the task's answer line (as in submission.json)",
    "id": "the record's id in its iteration's pool",
    "iteration": "the iteration that generated it",
    "teacher": "the generator that wrote it (`symbolic`, or the LLM teacher's spec)",
    "template": "the symbolic template that made it (empty for LLM teachers)",
    "topic": "the plan's topic (skill) it was asked for",
    "subject": "the topic's subject",
    "difficulty": "the plan's difficulty level (1 introductory, 2 intermediate, 3 advanced)",
    "seed": "the random seed of the request",
    "attempt": "the index of the request within its topic's allocation",
    "method_card": "the engineer's method card the record was made under, when its pool line names one (else null)",
    "answer": "the generator's known answer as JSON text (null when it had none)",
    "accepted": "whether every validator accepted it",
    "selected": "whether it is in its iteration's submission.json",
    "verification": "`verified` (its final answer agrees with the known answer), `failed` (it does not), "
                    "`no_known_answer` (the generator had none to check against) or `not_checked` "
                    "(rejected before the answer check)",
    "rejection_reason": "the first failing validator's reason (empty when accepted)",
    "verdicts": "every validator's verdict in order: `{validator, ok, reason}`",
}
"""The exported columns and what each holds (the card's and the README's table)."""


class ExportError(DataAgentError):
    """A run cannot be exported as asked."""


def features() -> Any:
    """The :class:`datasets.Features` of an exported split (:data:`COLUMNS`)."""
    from datasets import Features, List, Value

    string, i32 = Value("string"), Value("int32")
    return Features({
        "instruction": string, "input": string, "output": string, "id": string, "iteration": i32,
        "teacher": string, "template": string, "topic": string, "subject": string, "difficulty": i32,
        "seed": Value("int64"), "attempt": i32, "method_card": string, "answer": string,
        "accepted": Value("bool"), "selected": Value("bool"), "verification": string, "rejection_reason": string,
        "verdicts": List({"validator": string, "ok": Value("bool"), "reason": string}),
    })


# --------------------------------------------------------------------------- reading a run


@dataclass
class Iteration:
    number: int
    path: Path
    pool: list[dict[str, Any]] = field(default_factory=list)
    submission: list[dict[str, Any]] | None = None
    lineage: list[dict[str, Any]] | None = None
    generation: dict[str, Any] | None = None


@dataclass
class Run:
    path: Path
    config: dict[str, Any]
    state: dict[str, Any]
    metrics: dict[str, Any] | None
    iterations: list[Iteration]
    chosen: int | None
    unfinished: list[str]
    """Why the run is not finished (empty when it is)."""


def _json_file(path: Path, kind: type = dict) -> Any:
    """A JSON file's content, ``None`` when it is missing; content that is not a
    ``kind`` is an error naming the file."""
    if not path.is_file():
        return None
    data = read_json(path, ExportError)
    if not isinstance(data, kind):
        raise ExportError(f"{path}: expected a JSON {'list' if kind is list else 'object'}, got {type(data).__name__}")
    return data


def read_run(run_dir: Path) -> Run:
    """The run directory's files that an export needs; a missing directory or one
    that is not a run is a one-line :class:`ExportError`."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise ExportError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise ExportError(f"{run_dir}: not a run directory (a file)")
    if not (run_dir / "config.json").is_file() or not (run_dir / "state.json").is_file():
        missing = "config.json" if not (run_dir / "config.json").is_file() else "state.json"
        raise ExportError(f"{run_dir}: not a run directory (no {missing}; `data-agent specialize` makes one)")
    config = _json_file(run_dir / "config.json")
    state = _json_file(run_dir / "state.json")
    if not isinstance(state.get("steps"), dict) or not isinstance(state.get("order", []), list):
        raise ExportError(f"{run_dir / 'state.json'}: not a run state (expected an object with a 'steps' object)")
    metrics = _json_file(run_dir / "metrics.json")
    iterations = []
    for d in sorted(run_dir.glob("iter-[0-9][0-9]*")):
        m = re.fullmatch(r"iter-(\d+)", d.name)
        if not m or not d.is_dir():
            continue
        it = Iteration(int(m.group(1)), d, pool=read_pool_rows(d / "pool.jsonl", error=ExportError))
        if (d / "submission.json").is_file():
            it.submission = read_submission(d / "submission.json", list(SUBMISSION_FIELDS))
        it.lineage = _json_file(d / "lineage.json", list)
        it.generation = _json_file(d / "generation.json")
        iterations.append(it)

    unfinished = []
    if state.get("status") != "done" or not isinstance(metrics, dict):
        done = [s for s in state.get("order", []) if isinstance(s, str)]
        unfinished.append(f"its last finished step is {done[-1]!r}" if done else "no step has finished")
        planned = config.get("iterations")
        with_sub = [it.number for it in iterations if it.submission is not None]
        if isinstance(planned, int):
            unfinished.append(f"{len(with_sub)} of {planned} iterations have a submission")
        if "final/test" not in state["steps"]:
            unfinished.append("the test split has not been scored")
        metrics = metrics if isinstance(metrics, dict) and state.get("status") == "done" else None

    chosen = state.get("best_iteration")
    if metrics is not None:
        chosen = metrics.get("best_iteration", chosen)
    subs = {it.number for it in iterations if it.submission is not None}
    if chosen not in subs:
        chosen = max(subs) if subs else None
    return Run(run_dir, config, state, metrics, iterations, chosen, unfinished)


# --------------------------------------------------------------------------- rows


def verification(verdicts: list[dict[str, Any]], answer: Any) -> str:
    """What the answer check said about a record (see :data:`COLUMNS`)."""
    check = next((v for v in verdicts if v.get("validator") == AnswerAgreementValidator.name), None)
    if check is None:
        return "not_checked"
    if not check.get("ok"):
        return "failed"
    return "verified" if answer is not None else "no_known_answer"


def _method_card(rec: dict[str, Any]) -> str | None:
    card = rec.get("method_card")
    if card is None:
        return None
    return card if isinstance(card, str) else json.dumps(card, ensure_ascii=False, sort_keys=True)


def _row(rec: dict[str, Any], it: Iteration, selected: bool) -> dict[str, Any]:
    verdicts = [{"validator": str(v.get("validator", "")), "ok": bool(v.get("ok")), "reason": str(v.get("reason", ""))}
                for v in rec.get("verdicts") or [] if isinstance(v, dict)]
    failed = next((v for v in verdicts if not v["ok"]), None)
    answer = rec.get("answer")
    return {
        **{f: str(rec.get(f, "")) for f in SUBMISSION_FIELDS},
        "id": str(rec.get("id", "")),
        "iteration": int(rec.get("iteration") or it.number),
        "teacher": str(rec.get("generator", "")),
        "template": str(rec.get("template", "")),
        "topic": str(rec.get("topic", "")),
        "subject": str(rec.get("subject", "")),
        "difficulty": int(rec.get("difficulty") or 0),
        "seed": int(rec.get("seed") or 0),
        "attempt": int(rec.get("attempt") or 0),
        "method_card": _method_card(rec),
        "answer": None if answer is None else json.dumps(answer, ensure_ascii=False),
        "accepted": rec.get("accepted") is True,
        "selected": selected,
        "verification": verification(verdicts, answer),
        "rejection_reason": failed["reason"] if failed else "",
        "verdicts": verdicts,
    }


def _submitted(it: Iteration) -> list[dict[str, Any]]:
    """The iteration's submission in order, each record joined to its pool line
    (through lineage.json's ids, or its input when there is no lineage)."""
    assert it.submission is not None
    by_id = {r.get("id"): r for r in it.pool}
    by_input = {r.get("input"): r for r in it.pool if r.get("accepted") is True}
    sub_path = it.path / "submission.json"
    if it.lineage is not None and len(it.lineage) != len(it.submission):
        raise ExportError(f"{it.path / 'lineage.json'}: {len(it.lineage)} entries for {len(it.submission)} "
                          f"records in {sub_path}")
    out = []
    for k, s in enumerate(it.submission):
        if it.lineage is not None:
            rid = it.lineage[k].get("id") if isinstance(it.lineage[k], dict) else None
            rec = by_id.get(rid)
            if rec is None:
                raise ExportError(f"{it.path / 'lineage.json'}: entry {k}: id {rid!r} is not in "
                                  f"{it.path / 'pool.jsonl'}")
        else:
            rec = by_input.get(s["input"])
            if rec is None:
                raise ExportError(f"{sub_path}: record {k}: its input is not among the accepted records of "
                                  f"{it.path / 'pool.jsonl'}")
        differs = [f for f in SUBMISSION_FIELDS if rec.get(f) != s[f]]
        if differs:
            raise ExportError(f"{sub_path}: record {k}: {differs[0]!r} differs from pool record {rec.get('id')!r}")
        out.append(_row(rec, it, selected=True))
    return out


def _records(it: Iteration, what: str) -> list[dict[str, Any]]:
    if what == "submission":
        return _submitted(it) if it.submission is not None else []
    chosen = set()
    if it.lineage is not None:
        chosen = {e.get("id") for e in it.lineage if isinstance(e, dict)}
    rows = [_row(r, it, selected=r.get("id") in chosen) for r in it.pool]
    return [r for r in rows if r["accepted"]] if what == "accepted" else rows


def split_rows(run: Run, what: str, all_iterations: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The rows of each split: ``train`` (see the module's docstring) and, with
    ``all_iterations``, ``iter_NN`` for each iteration."""
    if what not in WHAT:
        raise ExportError(f"unknown --what {what!r} (expected one of: {', '.join(WHAT)})")
    if what == "submission":
        if run.chosen is None:
            raise ExportError(f"{run.path}: no iteration has a submission yet; `--what pool` exports the records "
                              f"generated so far")
        wanted = [it for it in run.iterations if it.submission is not None and (all_iterations or
                                                                              it.number == run.chosen)]
    else:
        if not any(it.pool for it in run.iterations):
            raise ExportError(f"{run.path}: no iteration has generated records yet (no iter-NN/pool.jsonl)")
        wanted = run.iterations
    per = {it.number: _records(it, what) for it in wanted}
    splits = {"train": per[run.chosen] if what == "submission" else [r for n in sorted(per) for r in per[n]]}
    if all_iterations:
        splits.update({f"iter_{n:02d}": per[n] for n in sorted(per)})
    return splits


# --------------------------------------------------------------------------- the card


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _interval(ci: Any, points: bool = False) -> str:
    if not ci or ci[0] is None:
        return "n/a"
    if points:
        return f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}] points"
    return f"[{100 * ci[0]:.1f}%, {100 * ci[1]:.1f}%]"


_MISSING = object()


def _get(d: dict[str, Any], key: str, missing: Any = None) -> Any:
    for part in key.split("."):
        if not isinstance(d, dict) or part not in d:
            return missing
        d = d[part]
    return d


def command_for(config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``data-agent specialize`` command that makes a run of ``config``: the
    preset, the domain and an option for each setting that differs from the
    preset; and the differing settings that have no option (a ``--config`` file's)."""
    preset = str(config.get("preset", "cpu"))
    parts = ["data-agent", "specialize", "--preset", preset, "--domain", str(config.get("domain", ""))]
    base = PRESETS[preset]().to_dict() if preset in PRESETS else {}
    file_only: dict[str, Any] = {}
    evals = ("eval.val_subset", "eval.test_subset")
    full_eval = all(_get(config, k) is None and _get(base, k) is not None for k in evals)
    if full_eval:
        parts.append("--full-eval")
    for s in settings():
        if s.key in ("domain", "preset") or (full_eval and s.key in evals):
            continue
        value, default = _get(config, s.key, _MISSING), _get(base, s.key)
        if value is _MISSING or value == default:  # a run made before the setting existed has none
            continue
        if isinstance(value, bool) and s.flags and value == (not s.default):
            parts.append(s.flags[0])
        elif s.flags and value is not None and not isinstance(value, (bool, list, dict)):
            parts += [s.flags[0], str(value)]
        else:
            file_only[s.key] = value
    if file_only:
        parts += ["--config", "run.toml"]
    return " ".join(shlex.quote(p) for p in parts), file_only


def toml_lines(values: dict[str, Any]) -> list[str]:
    """``values`` (dotted keys; strings, numbers, booleans and lists of them) as the
    lines of a TOML file, top-level keys first. JSON's literals are TOML's for these;
    an unset value (``None``) has no TOML form and becomes a comment."""
    tables: dict[str, list[str]] = {}
    for key, value in values.items():
        table, _, name = key.rpartition(".")
        line = f"# {name}: unset" if value is None else f"{name} = {json.dumps(value, ensure_ascii=False)}"
        tables.setdefault(table, []).append(line)
    lines = []
    for table in sorted(tables, key=lambda t: (t != "", t)):
        if table:
            lines.append(f"[{table}]")
        lines += tables[table]
    return lines


def hub_license(name: str | None) -> str:
    """The Hub's ``license`` identifier of a licence name (``MIT`` -> ``mit``);
    ``other`` for a name with spaces, ``unknown`` for none."""
    if not name:
        return "unknown"
    ident = name.strip().lower()
    return ident if re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", ident) else "other"


def _size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "n>1M"


def _data_files(fmt: str, split: str) -> str:
    return f"{split}/data-*.arrow" if fmt == "arrow" else f"data/{split}-*.{'parquet' if fmt == 'parquet' else 'jsonl'}"


def card_header(run: Run, domain: Domain, dd: Any, fmt: str) -> Any:
    """The card's YAML header as :class:`huggingface_hub.DatasetCardData`."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    m = domain.manifest
    license_name = m.get("license_name")
    ident = hub_license(license_name)
    extra = {"license_name": str(license_name)} if ident == "other" else {}
    language = m.get("language", "en")
    total = sum(len(ds) for ds in dd.values())
    card = DatasetCardData(
        license=ident, language=language if isinstance(language, list) else [language],
        task_categories=["text-generation"], tags=["synthetic", "data-agent", domain.name, domain.task.kind],
        pretty_name=f"data-agent {domain.name} training data ({run.path.name})", size_categories=[_size_category(total)],
        **extra)
    MetadataConfigs({"default": {"data_files": [{"split": s, "path": _data_files(fmt, s)} for s in dd]}}
                    ).to_dataset_card_data(card)
    splits = SplitDict()
    for s, ds in dd.items():
        splits.add(SplitInfo(name=s, num_examples=len(ds), num_bytes=ds.data.nbytes))
    DatasetInfosDict({"default": DatasetInfo(features=features(), splits=splits)}).to_dataset_card_data(card)
    return card


def _rejections(gen: dict[str, Any] | None) -> dict[str, int]:
    return dict(((gen or {}).get("validation") or {}).get("rejected_by_reason") or {})


def card_body(run: Run, domain: Domain, dd: Any, what: str, fmt: str, all_iterations: bool) -> str:
    """The card's Markdown (after the YAML header)."""
    cfg, m, man = run.config, run.metrics, domain.manifest
    title = man.get("title") or domain.name
    lines = [f"# data-agent {domain.name} training data ({run.path.name})", ""]
    if run.unfinished:
        lines += [f"> This run has not finished: {'; '.join(run.unfinished)}. This export holds what the run "
                  f"directory had when it was made; results that do not exist yet are marked as such.", ""]
    if m is not None:
        why = " (the iteration chosen by validation)"
    elif run.state.get("best_iteration") == run.chosen:
        why = " (the best on validation so far)"
    else:
        why = " (the latest one so far; none has been scored on validation)"
    kinds = {"submission": f"the submission of iteration {run.chosen}{why}",
             "pool": "every record the teachers generated, accepted and rejected, with the validators' verdicts",
             "accepted": "every record the validators accepted, of every iteration"}
    lines += [
        f"Training data made by data-agent for the domain **{domain.name}** ({title}): the records a data "
        f"engineer had teacher models write, checked by validators and used to fine-tune a student model, "
        f"scored on the domain's validation split and, once at the end, on its sealed test split.", "",
        f"- task: `{domain.task.kind}` ({domain.task.rule_summary})",
        f"- this export: {kinds[what]}",
        "- splits: " + ", ".join(f"`{s}` ({len(ds)} records)" for s, ds in dd.items())
        + (" (`iter_NN`: one iteration's records)" if all_iterations else ""),
        f"- format: {fmt}, files " + ", ".join(f"`{_data_files(fmt, s)}`" for s in dd),
        "",
        "## Source data and licences", "",
        f"The seeds (worked examples the teachers are grounded in) and the evaluation data (validation and test "
        f"splits) come from the `{domain.name}` pack.", "",
        f"- licence: {man.get('license_name') or 'not stated by the pack'}"
        + (f" (the pack's `{man['license']}` file)" if man.get("license") else ""),
        f"- attribution: {man.get('attribution') or 'not stated by the pack'}",
        f"- counts: " + ", ".join(f"{k} {v}" for k, v in (man.get("counts") or {}).items()),
        "",
        "The records themselves were generated (see below); the accepted ones share no word "
        f"{domain.decontamination_n}-gram with any validation or test problem.", "",
        "## Who made it", "",
    ]
    teachers = sorted({r for ds in dd.values() for r in ds["teacher"] if r})
    lines += [f"- teacher: `{cfg.get('teacher')}`" + (f" (records by: {', '.join(f'`{t}`' for t in teachers)})"
                                                       if teachers and teachers != [cfg.get("teacher")] else ""),
              f"- engineer: `{cfg.get('engineer')}`",
              f"- student: `{cfg.get('student')}` (training: {_get(cfg, 'train.method')}, "
              f"{_get(cfg, 'train.num_train_epochs')} epochs, learning rate {_get(cfg, 'train.learning_rate')})",
              f"- preset: `{cfg.get('preset')}`, {cfg.get('n_records')} records per iteration, "
              f"{cfg.get('iterations')} iterations, seed {cfg.get('seed')}", ""]

    lines += ["## Generation", "",
              "| iteration | requests | checked | accepted | submitted | rejected by reason |", "|---|---|---|---|---|---|"]
    dec_total = 0
    for it in run.iterations:
        gen = it.generation or {}
        val = gen.get("validation") or {}
        rej = _rejections(it.generation)
        dec_total += rej.get("decontamination", 0)
        sub = len(it.submission) if it.submission is not None else "not yet"
        lines.append(f"| {it.number} | {gen.get('requests', 'n/a')} | {val.get('checked', len(it.pool))} | "
                     f"{val.get('accepted', sum(1 for r in it.pool if r.get('accepted') is True))} | {sub} | "
                     + (", ".join(f"{k}: {n}" for k, n in sorted(rej.items())) or "none") + " |")
    if not run.iterations:
        lines.append("| none yet | | | | | |")
    lines += ["", "## Decontamination", "",
              f"Every record was checked against hashed word {domain.decontamination_n}-grams of every validation and "
              f"test problem (the pack's `{_get(man, 'decontamination.file')}`, n = {domain.decontamination_n}); a "
              f"record sharing any of them was rejected. Rejections under `decontamination`: {dec_total} "
              f"(" + (", ".join(f"iteration {it.number}: {_rejections(it.generation).get('decontamination', 0)}"
                                for it in run.iterations) or "no iteration yet") + ").", ""]

    lines += ["## Results of the student trained on the submission", ""]
    if m is None:
        lines += ["No results yet: the run has not finished (validation scores of finished iterations are in the run "
                  "directory's `iter-NN/eval-val.json`).", ""]
    else:
        t, g = m["test"], m["test"]["gain"]
        lines += [f"Validation ({m['base']['val']['n']} problems) per iteration; the chosen iteration "
                  f"({m['best_iteration']}) is the one with the {m.get('selection', 'best validation score')}.", "",
                  "| | accuracy | 95% CI | format compliance |", "|---|---|---|---|",
                  f"| base student | {_pct(m['base']['val']['accuracy'])} | "
                  f"{_interval(m['base']['val'].get('accuracy_ci95'))} | {_pct(m['base']['val']['format_compliance'])} |"]
        for it in m["iterations"]:
            v = it["val"]
            lines.append(f"| iteration {it['iteration']} | {_pct(v['accuracy'])} | {_interval(v.get('accuracy_ci95'))} "
                         f"| {_pct(v['format_compliance'])} |")
        rel = ("undefined (the base accuracy is 0)" if g.get("relative_gain") is None
               else f"{100 * g['relative_gain']:+.1f}% (95% CI {_interval(g.get('relative_gain_ci95'))})")
        lines += ["", f"Test ({t['n']} of {t['of']} problems" + (", a deterministic source-stratified subset"
                                                                  if t.get("subset") else "")
                  + "; scored once, at the end):", "",
                  "| | accuracy | 95% CI | format compliance |", "|---|---|---|---|",
                  f"| base student | {_pct(t['base']['accuracy'])} | {_interval(t['base'].get('accuracy_ci95'))} | "
                  f"{_pct(t['base']['format_compliance'])} |",
                  f"| iteration {m['best_iteration']} | {_pct(t['final']['accuracy'])} | "
                  f"{_interval(t['final'].get('accuracy_ci95'))} | {_pct(t['final']['format_compliance'])} |", "",
                  f"Absolute gain {100 * g['absolute_gain']:+.1f} points (paired bootstrap 95% CI "
                  f"{_interval(g.get('absolute_gain_ci95'), points=True)}); relative gain {rel}.", ""]

    lines += ["## Columns", "", "| column | what it holds |", "|---|---|"]
    lines += [f"| `{c}` | {what_} |" for c, what_ in COLUMNS.items()]
    command, file_only = command_for(cfg)
    lines += ["", "## How it was made", "", "The run:", "", "```bash", command, "```", ""]
    if file_only:
        lines += ["with `run.toml` holding the settings that have no option:", "", "```toml",
                  *toml_lines(file_only), "```", ""]
    lines += ["Its resolved configuration (`config.json`):", "", "```json",
              json.dumps(cfg, indent=2, ensure_ascii=False), "```", "",
              "The export: `data-agent export RUN_DIR --to DIR --format " + fmt + " --what " + what
              + (" --all-iterations" if all_iterations else "") + "`.", ""]
    return "\n".join(lines)


def render_card(run: Run, domain: Domain, dd: Any, what: str, fmt: str, all_iterations: bool) -> str:
    """The whole ``README.md``: the YAML header and the Markdown, with any secret redacted."""
    from huggingface_hub import DatasetCard

    header = card_header(run, domain, dd, fmt)
    body = card_body(run, domain, dd, what, fmt, all_iterations)
    return redact(str(DatasetCard(f"---\n{header.to_yaml()}\n---\n\n{body}")))


# --------------------------------------------------------------------------- the Hub


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def hub_client(repo_id: str, api: Any = None) -> tuple[Any, str, str]:
    """An ``HfApi`` client (``api``, or a new one), the ``HF_TOKEN`` and the full
    repository id (``NAME`` alone is the token owner's ``OWNER/NAME``), checked to
    reach the Hub; offline, without a token or without a connection a one-line
    :class:`ExportError` (which never shows the token)."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HFValidationError, HfHubHTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ExportError(f"--push-to-hub: {repo_id!r} is not a repository id (expected OWNER/NAME or NAME)") from None
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or constants.is_offline_mode():
        raise ExportError("--push-to-hub: offline mode is on (HF_HUB_OFFLINE=1, which data-agent sets unless it is "
                          "given); run with HF_HUB_OFFLINE=0 and a network connection to push")
    token = os.environ.get("HF_TOKEN", "").strip()
    if not token:
        raise ExportError("--push-to-hub: no token: set HF_TOKEN to a Hugging Face token with write access")
    api = api if api is not None else HfApi()
    try:
        me = api.whoami(token=token)
    except OfflineModeIsEnabled:
        raise ExportError("--push-to-hub: offline mode is on (huggingface_hub was loaded with HF_HUB_OFFLINE=1); "
                          "run with HF_HUB_OFFLINE=0 to push") from None
    except HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        why = "the token was refused" if status in (401, 403) else f"HTTP {status}"
        raise ExportError(f"--push-to-hub: {api.endpoint}: {why}; check HF_TOKEN") from None
    except Exception as e:  # httpx.ConnectError, timeouts, DNS: the Hub cannot be reached
        raise ExportError(f"--push-to-hub: cannot reach {api.endpoint} ({type(e).__name__}); check the "
                          f"network connection") from None
    if "/" not in repo_id:
        repo_id = f"{me.get('name')}/{repo_id}"
    return api, token, repo_id


def _push(api: Any, token: str, repo_id: str, folder: Path, private: bool, run: Run) -> str:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        api.create_repo(repo_id, repo_type="dataset", private=private or None, exist_ok=True, token=token)
        info = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder), token=token,
                                 commit_message=f"data-agent export of run {run.path.name}")
    except HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        raise ExportError(f"--push-to-hub: {repo_id}: the Hub refused the upload (HTTP {status}); the export is in "
                          f"{folder}") from None
    except Exception as e:
        raise ExportError(f"--push-to-hub: {repo_id}: upload failed ({type(e).__name__}); the export is in "
                          f"{folder}") from None
    return str(getattr(info, "commit_url", "") or "")


# --------------------------------------------------------------------------- the export


def _write(dd: Any, folder: Path, fmt: str) -> None:
    if fmt == "arrow":
        dd.save_to_disk(str(folder))
        return
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for split, ds in dd.items():
        if fmt == "parquet":
            ds.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
        else:
            ds.to_json(str(folder / "data" / f"{split}-00000-of-00001.jsonl"), lines=True, force_ascii=False)


def export(run_dir: Path, to: Path, *, format: str = "parquet", what: str = "submission",
           all_iterations: bool = False, push_to_hub: str | None = None, private: bool = False,
           hub_api: Any = None) -> Any:
    """Export a run's data to the folder ``to`` as a dataset with a card; returns the :class:`datasets.DatasetDict`.

    ``format``: one of :data:`FORMATS`; ``what``: one of :data:`WHAT`;
    ``all_iterations`` adds one split per iteration. ``to`` must not exist or be
    empty. ``push_to_hub`` (``OWNER/NAME``, or ``NAME`` in the token owner's
    namespace) then uploads the folder to that
    dataset repository (``private`` makes a new one private) with ``HF_TOKEN``;
    ``hub_api`` is the ``huggingface_hub.HfApi`` client to use (default: a new
    one for the configured endpoint)."""
    if format not in FORMATS:
        raise ExportError(f"unknown --format {format!r} (expected one of: {', '.join(FORMATS)})")
    if what not in WHAT:
        raise ExportError(f"unknown --what {what!r} (expected one of: {', '.join(WHAT)})")
    if private and push_to_hub is None:
        raise ExportError("--private needs --push-to-hub REPO_ID (it makes the new Hub repository private)")
    to = Path(to)
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise ExportError(f"{to}: already exists and is not an empty folder; choose another --to")
    run = read_run(run_dir)
    api = token = repo_id = None
    if push_to_hub is not None:  # before anything is written
        api, token, repo_id = hub_client(push_to_hub, hub_api)
    try:
        domain = load_domain(run.config.get("domain", ""))
    except DataAgentError as e:
        raise ExportError(f"{run.path}: the run's domain pack cannot be loaded ({e})") from None
    splits = split_rows(run, what, all_iterations)

    from datasets import Dataset, DatasetDict

    feats = features()
    dd = DatasetDict({s: Dataset.from_list(rows, features=feats) for s, rows in splits.items()})
    card = render_card(run, domain, dd, what, format, all_iterations)
    tmp = to.with_name(f".{to.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        _write(dd, tmp, format)
        atomic_write_text(tmp / "README.md", card)
        if to.exists():
            to.rmdir()
        tmp.rename(to)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if api is not None:
        _push(api, token, repo_id, to, private, run)
    return dd
