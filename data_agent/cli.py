"""The ``data-agent`` command line. Thin: parse options, call the library, render with rich.

Every command is also a library call: :func:`data_agent.loop.specialize`,
:func:`data_agent.loop.resume`, :func:`data_agent.api.evaluate`,
:func:`data_agent.validators.validate_submission`, :func:`data_agent.domain.list_domains`,
:func:`data_agent.report.write_report`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

import click
import typer
from rich.console import Console
from rich.table import Table

from .errors import DataAgentError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Specialize a small student model for a domain by engineering its training data.")
out = Console()
err = Console(stderr=True)


def _setup_env() -> None:
    # Nothing is ever downloaded from a model hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("transformers", "trl", "peft", "accelerate", "datasets", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except Exception:
        pass


@app.command()
def specialize(
    domain: str = typer.Option("science", help="Domain pack name or path."),
    preset: str = typer.Option("cpu", help="cpu (default, fits a 2-core CPU), gpu (the DataAgent recipe) or smoke."),
    config: Optional[Path] = typer.Option(None, help="TOML file with option overrides."),
    student: Optional[str] = typer.Option(None, help="Student: smollm2-135m, tiny-llama, a model dir or hub name."),
    teacher: Optional[str] = typer.Option(None, help="Teacher spec (default: symbolic)."),
    engineer: Optional[str] = typer.Option(None, help="Engineer: heuristic (default) or a model spec like --teacher."),
    n_records: Optional[int] = typer.Option(None, "--n-records", "-n", help="Records per submission."),
    iterations: Optional[int] = typer.Option(None, help="Number of iterations."),
    max_generation_factor: Optional[float] = typer.Option(None, help="Teacher requests allowed per record."),
    full_eval: bool = typer.Option(False, "--full-eval", help="Score the whole validation and test splits."),
    val_subset: Optional[int] = typer.Option(None, help="Validation problems scored per iteration."),
    test_subset: Optional[int] = typer.Option(None, help="Test problems scored at the end."),
    max_new_tokens: Optional[int] = typer.Option(None, help="Decoding budget per problem."),
    seed: Optional[int] = typer.Option(None, help="Sampling seed."),
    run_dir: Optional[Path] = typer.Option(None, help="Run directory (default: submissions/<domain>/<timestamp>)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the teacher response cache."),
    cache_dir: Optional[Path] = typer.Option(None, help="Folder of the teacher response cache."),
    concurrency: Optional[int] = typer.Option(None, help="LLM teacher requests in flight at once."),
    rpm: Optional[int] = typer.Option(None, help="LLM teacher requests per minute (paced evenly)."),
    tpm: Optional[int] = typer.Option(None, help="LLM teacher tokens per minute."),
    max_calls: Optional[int] = typer.Option(None, help="Teacher calls allowed in the run."),
    max_total_tokens: Optional[int] = typer.Option(None, help="Teacher tokens allowed in the run."),
    max_dollars: Optional[float] = typer.Option(None, help="Estimated dollars allowed in the run."),
    iteration_max_calls: Optional[int] = typer.Option(None, help="Teacher calls allowed per iteration."),
    iteration_max_tokens: Optional[int] = typer.Option(None, help="Teacher tokens allowed per iteration."),
    iteration_max_dollars: Optional[float] = typer.Option(None, help="Estimated dollars allowed per iteration."),
    prices: Optional[Path] = typer.Option(None, help="TOML price table overriding the shipped one."),
) -> None:
    """Run the loop: plan, generate, validate, train, evaluate, reflect; then score on test once."""
    from .config import load_config
    from .loop import specialize as run
    from .ui import RichReporter

    overrides = {"domain": domain, "student": student, "teacher": teacher, "engineer": engineer,
                 "n_records": n_records, "iterations": iterations, "max_generation_factor": max_generation_factor,
                 "seed": seed, "eval.max_new_tokens": max_new_tokens, "eval.val_subset": val_subset,
                 "eval.test_subset": test_subset, "teachers.use_cache": False if no_cache else None,
                 "teachers.cache_dir": str(cache_dir) if cache_dir else None,
                 "teachers.prices": str(prices) if prices else None,
                 **_limits(concurrency, rpm, tpm, max_calls, max_total_tokens, max_dollars, iteration_max_calls,
                           iteration_max_tokens, iteration_max_dollars)}
    cfg = load_config(preset, config, overrides)
    if full_eval:
        cfg.eval.val_subset = None
        cfg.eval.test_subset = None
    d = run(cfg, run_dir=run_dir, reporter=RichReporter(err))
    out.print(str(d))


def _limits(concurrency: Optional[int], rpm: Optional[int], tpm: Optional[int], max_calls: Optional[int],
            max_total_tokens: Optional[int], max_dollars: Optional[float], iteration_max_calls: Optional[int],
            iteration_max_tokens: Optional[int], iteration_max_dollars: Optional[float]) -> dict[str, Any]:
    """Rate and budget options as config overrides."""
    return {"teachers.max_concurrency": concurrency, "teachers.requests_per_minute": rpm,
            "teachers.tokens_per_minute": tpm, "teachers.max_calls": max_calls,
            "teachers.max_total_tokens": max_total_tokens, "teachers.max_dollars": max_dollars,
            "teachers.iteration_max_calls": iteration_max_calls, "teachers.iteration_max_tokens": iteration_max_tokens,
            "teachers.iteration_max_dollars": iteration_max_dollars}


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="The run directory to continue."),
    concurrency: Optional[int] = typer.Option(None, help="New limit: LLM teacher requests in flight at once."),
    rpm: Optional[int] = typer.Option(None, help="New limit: LLM teacher requests per minute (paced evenly)."),
    tpm: Optional[int] = typer.Option(None, help="New limit: LLM teacher tokens per minute."),
    max_calls: Optional[int] = typer.Option(None, help="New budget: teacher calls in the whole run."),
    max_total_tokens: Optional[int] = typer.Option(None, help="New budget: teacher tokens in the whole run."),
    max_dollars: Optional[float] = typer.Option(None, help="New budget: estimated dollars in the whole run."),
    iteration_max_calls: Optional[int] = typer.Option(None, help="New budget: teacher calls per iteration."),
    iteration_max_tokens: Optional[int] = typer.Option(None, help="New budget: teacher tokens per iteration."),
    iteration_max_dollars: Optional[float] = typer.Option(None, help="New budget: estimated dollars per iteration."),
) -> None:
    """Continue a run that was killed, interrupted or stopped by a budget.

    Spending before the interruption counts against the budgets; raise one with
    its option (e.g. --max-dollars 10) to continue past it.
    """
    from .loop import resume as run
    from .ui import RichReporter

    d = run(run_dir, reporter=RichReporter(err),
            overrides=_limits(concurrency, rpm, tpm, max_calls, max_total_tokens, max_dollars, iteration_max_calls,
                              iteration_max_tokens, iteration_max_dollars))
    out.print(str(d))


@app.command()
def evaluate(
    domain: str = typer.Option("science", help="Domain pack name or path."),
    split: str = typer.Option("val", help="val or test."),
    predictions: Optional[Path] = typer.Option(None, help="JSONL of {\"id\", \"output\"} produced elsewhere."),
    model: Optional[str] = typer.Option(None, help="Generate with this student instead (name or directory)."),
    limit: Optional[int] = typer.Option(None, help="Score a deterministic, source-stratified subset."),
    max_new_tokens: int = typer.Option(192, help="Decoding budget when generating."),
    output: Optional[Path] = typer.Option(None, help="Write metrics and per-item results to this JSON file."),
) -> None:
    """Score predictions (no model needed) or a model on a split."""
    from .api import evaluate as run

    result = run(domain, split=split, predictions=predictions, model=model, limit=limit,
                 max_new_tokens=max_new_tokens, output=output)
    m = result["metrics"]
    t = Table(title=f"{domain} / {split}: {m['n']} problems")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("accuracy", f"{m['accuracy']:.3f}")
    t.add_row("95% CI", f"[{m['accuracy_ci95'][0]:.3f}, {m['accuracy_ci95'][1]:.3f}]")
    t.add_row("format compliance", f"{m['format_compliance']:.3f}")
    for s, v in m["per_source"].items():
        t.add_row(f"  {s} (n={v['n']})", f"{v['accuracy']:.3f}")
    out.print(t)
    if m.get("missing"):
        err.print(f"[yellow]{m['missing']} item(s) had no prediction and count as wrong[/]")


@app.command()
def validate(
    submission: Path = typer.Argument(..., help="A submission.json file."),
    domain: str = typer.Option("science", help="Domain pack name or path."),
    n: Optional[int] = typer.Option(None, "-n", "--n-records", help="Expected number of records."),
) -> None:
    """Check a submission.json against the domain's format and validators."""
    from .domain import load_domain
    from .validators import validate_submission

    rep = validate_submission(submission, load_domain(domain), expected_n=n)
    if rep.ok:
        out.print(f"[green]ok[/]: {rep.n} records in {submission} are valid for {domain}")
        return
    for p in rep.problems[:20]:
        err.print(p)
    if len(rep.problems) > 20:
        err.print(f"... and {len(rep.problems) - 20} more")
    raise DataAgentError(f"{submission}: {len(rep.problems)} problem(s) found")


@app.command()
def domains() -> None:
    """List the domain packs."""
    from .domain import list_domains, load_domain

    t = Table(title="domain packs")
    for c in ("name", "title", "val", "test", "seeds"):
        t.add_column(c)
    for name in list_domains():
        d = load_domain(name, verify=False)
        c = d.manifest.get("counts", {})
        t.add_row(name, d.manifest.get("title", ""), str(c.get("val", "")), str(c.get("test", "")),
                  str(c.get("seeds", "")))
    out.print(t)


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A finished run directory.")) -> None:
    """(Re)write report.md and the plot of a run."""
    from .report import write_report

    out.print(str(write_report(run_dir)))


def _click_errors() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(usage errors, exit, abort) classes: click's, and those of the copy of
    click that recent typer versions carry (``typer._click``)."""
    usage: set[type] = {click.ClickException}
    exits: set[type] = {click.exceptions.Exit, typer.Exit}
    aborts: set[type] = {click.exceptions.Abort, typer.Abort}
    try:
        from typer._click import exceptions as vendored
    except ImportError:
        pass
    else:
        usage.add(vendored.ClickException)
    return tuple(usage), tuple(exits), tuple(aborts)


def main() -> None:
    _setup_env()
    usage_errors, exits, aborts = _click_errors()
    try:
        app(standalone_mode=False)
    except exits as e:
        sys.exit(getattr(e, "exit_code", 0))
    except usage_errors as e:
        e.show()
        sys.exit(e.exit_code)
    except aborts:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: the run directory holds a resumable state; "
                  "continue with `data-agent resume RUN_DIR`")
        sys.exit(130)
    except DataAgentError as e:
        from .logging_utils import redact

        err.print(f"[red]error[/]: {redact(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
