"""The ``data-agent`` command line. Thin: parse options, call the library, render with rich.

Every command is also a library call: :func:`data_agent.loop.specialize` (``curate``: the same with ``RunConfig.pool``),
:func:`data_agent.loop.resume`, :func:`data_agent.api.evaluate`,
:func:`data_agent.validators.validate_submission`, :func:`data_agent.packs.domain_summaries`,
:func:`data_agent.packs.init_domain`,
:func:`data_agent.report.write_report`, :func:`data_agent.api.export`.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional, get_args

import click
import typer
from rich.console import Console
from rich.table import Table

from .config import N_RECORDS_FORCE_ABOVE, Setting, load_config, settings
from .errors import DataAgentError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Specialize a small student model for a domain by engineering its training data.")
out = Console(soft_wrap=True)  # paths on stdout are never wrapped (scripts read them)
err = Console(stderr=True)


def _setup_env() -> None:
    # Nothing is ever downloaded from a model hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging
    import warnings

    from .logging_utils import install_process_redaction

    warnings.filterwarnings("ignore")
    for name in ("transformers", "trl", "peft", "accelerate", "datasets", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # No log line, routed warning or traceback on stderr carries an API key: every
    # record is redacted when created, whichever library logs it and whichever
    # handler (logging.lastResort included) writes it.
    install_process_redaction()
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


def _setting(key: str) -> Setting:
    """The setting ``key`` (for a command's own option on it)."""
    return next(s for s in settings() if s.key == key)


def _option_type(setting: Setting) -> Any:
    """The type of a setting's option: the field's, without ``None``."""
    types = [t for t in get_args(setting.type) if t is not type(None)]
    return types[0] if types else setting.type


def _param_name(setting: Setting) -> str:
    return setting.key.replace(".", "__")


def _parameter(setting: Setting) -> inspect.Parameter:
    """The command parameter of a setting's option. Unset options are ``None``
    (the preset, the config file or the run keeps its value); a ``bool``
    setting's option is a flag; a ``min`` and ``max`` are the option's range
    (the other checks are :func:`~data_agent.config.load_config`'s)."""
    kind = _option_type(setting)
    if kind is bool:
        default, annotation = typer.Option(False, *setting.flags, help=setting.help), bool
    else:
        default = typer.Option(None, *setting.flags, help=setting.help, min=setting.minimum, max=setting.maximum)
        annotation = Optional[kind]
    return inspect.Parameter(_param_name(setting), inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)


def _override(setting: Setting, value: Any) -> Any:
    """A given option's value for the setting (``None``: not given); a flag sets the opposite of the default."""
    if _option_type(setting) is bool:
        return (not setting.default) if value else None
    return value


def _with_settings(resumable: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command one option per setting of :func:`data_agent.config.settings`
    that has a ``cli`` name (only the ``resumable`` ones if ``resumable``), with
    the field's option names, type and help. The command's own parameters come
    first; it receives the options as ``overrides`` (``{"teachers.max_calls": 200, ...}``,
    ``None`` for those not given)."""
    chosen = [s for s in settings() if s.flags and (s.resumable or not resumable)]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        params = [p for p in signature.parameters.values() if p.name != "overrides"]
        params += [_parameter(s) for s in chosen]

        @functools.wraps(command)
        def run(**kwargs: Any) -> None:
            overrides = {s.key: _override(s, kwargs.pop(_param_name(s))) for s in chosen}
            command(**kwargs, overrides=overrides)

        run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate


@app.command()
@_with_settings()
def specialize(
    domain: Optional[str] = typer.Option(None, help=f"{_setting('domain').help} [default: the --config file's "
                                                     f"domain, else {_setting('domain').default}]"),
    preset: str = typer.Option("cpu", help="cpu (default, fits a 2-core CPU), gpu (the DataAgent recipe) or smoke."),
    config: Optional[Path] = typer.Option(None, help="TOML file with option overrides."),
    run_dir: Optional[Path] = typer.Option(None, help="Run directory (default: submissions/<domain>/<timestamp>)."),
    full_eval: bool = typer.Option(False, "--full-eval", help="Score the whole validation and test splits."),
    force: bool = typer.Option(False, "--force", help=f"Allow values above their sanity bounds (more than "
                                                      f"{N_RECORDS_FORCE_ABOVE:,} records)."),
    *,
    overrides: dict[str, Any],
) -> None:
    """Run the loop: plan, generate, validate, train, evaluate, reflect; then score on test once.

    The other options set fields of data_agent/config.py, over the preset and
    the --config file.
    """
    _start_run(preset, config, {"domain": domain, **overrides}, run_dir, full_eval, force)


def _start_run(preset: str, config: Optional[Path], overrides: dict[str, Any], run_dir: Optional[Path],
               full_eval: bool, force: bool) -> None:
    cfg = load_config(preset, config, overrides, force=force)  # None values: the file's or the default
    from .loop import specialize as run  # after the checks: a bad value fails before the heavy imports
    from .ui import RichReporter

    if full_eval:
        cfg.eval.val_subset = None
        cfg.eval.test_subset = None
    d = run(cfg, run_dir=run_dir, reporter=RichReporter(err))
    out.print(str(d))


@app.command()
@_with_settings()
def curate(
    pool: Path = typer.Option(..., "--pool", help="JSONL pool to select from: one record per line with 'input' and "
                                                 "'output' (and optionally 'id', 'topic', 'answer'...)."),
    domain: Optional[str] = typer.Option(None, help=f"{_setting('domain').help} [default: the --config file's "
                                                     f"domain, else {_setting('domain').default}]"),
    preset: str = typer.Option("cpu", help="cpu (default, fits a 2-core CPU), gpu (the DataAgent recipe) or smoke."),
    config: Optional[Path] = typer.Option(None, help="TOML file with option overrides."),
    run_dir: Optional[Path] = typer.Option(None, help="Run directory (default: submissions/<domain>/<timestamp>)."),
    full_eval: bool = typer.Option(False, "--full-eval", help="Score the whole validation and test splits."),
    force: bool = typer.Option(False, "--force", help=f"Allow values above their sanity bounds (more than "
                                                      f"{N_RECORDS_FORCE_ABOVE:,} records)."),
    *,
    overrides: dict[str, Any],
) -> None:
    """Select each iteration's N records (-n) from a pool you already have, instead of generating them.

    The pool goes through the same validators and decontamination as generated
    data; the engineer plans topics and a selection policy, the student is
    trained and scored on validation, the engineer reflects and selects again,
    and the test split is scored once at the end, as with `specialize`.
    """
    _start_run(preset, config, {"domain": domain, **overrides, "pool": str(pool)}, run_dir, full_eval, force)


@app.command()
@_with_settings(resumable=True)
def resume(
    run_dir: Path = typer.Argument(..., help="The run directory to continue."),
    *,
    overrides: dict[str, Any],
) -> None:
    """Continue a run that was killed, interrupted or stopped by a budget.

    Spending before the interruption counts against the budgets; raise one with
    its option (e.g. --max-dollars 10) to continue past it. The options set new
    values of the run's budgets, rates and concurrency, the only settings a
    resumed run may change.
    """
    from .loop import resume as run
    from .ui import RichReporter

    d = run(run_dir, reporter=RichReporter(err), overrides=overrides)
    out.print(str(d))


@app.command()
def evaluate(
    domain: str = typer.Option("science", help="Domain pack name or path."),
    split: str = typer.Option("val", help="val or test."),
    predictions: Optional[Path] = typer.Option(None, help="JSONL of {\"id\", \"output\"} produced elsewhere."),
    model: Optional[str] = typer.Option(None, help="Generate with this student instead (name or directory)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Score a deterministic, source-stratified subset."),
    max_new_tokens: int = typer.Option(192, min=1, help="Decoding budget when generating."),
    output: Optional[Path] = typer.Option(None, help="Write metrics and per-item results to this JSON file."),
) -> None:
    """Score predictions (no model needed) or a model on a split."""
    from .api import evaluate as run
    from .ui import RichReporter

    result = run(domain, split=split, predictions=predictions, model=model, limit=limit,
                 max_new_tokens=max_new_tokens, output=output, reporter=RichReporter(err))
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
    n: Optional[int] = typer.Option(None, "-n", "--n-records", min=1, help="Expected number of records."),
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
def domains(as_json: bool = typer.Option(False, "--json", help="Print a JSON list (for scripts).")) -> None:
    """List the domain packs: split sizes, task kind, scoring rule and licence."""
    import json

    from .packs import domain_summaries

    rows = domain_summaries()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    t = Table(title="domain packs")
    for c in ("name", "task", "rule", "val", "test", "seeds", "licence"):
        t.add_column(c)
    for r in rows:
        if "error" in r:
            t.add_row(r["name"], "[red]broken[/]", r["error"], "", "", "", "")
            continue
        t.add_row(r["name"], r["task"], r["rule"], *(str(r[k] if r[k] is not None else "") for k in ("val", "test", "seeds")),
                  r["license"])
    out.print(t)


@app.command("init-domain")
def init_domain(
    name: str = typer.Argument(..., help="The pack's name (one plain folder name)."),
    val: Path = typer.Option(..., "--val", help="Validation rows: a .jsonl, .json (list of objects) or .csv file."),
    test: Path = typer.Option(..., "--test", help="Test rows (sealed in the pack), same formats."),
    task: str = typer.Option(..., "--task", help="numeric, python_literal, exact or choice."),
    seeds: Optional[Path] = typer.Option(None, "--seeds", help="Worked examples (rows with a solution)."),
    field_map: Optional[str] = typer.Option(None, "--field-map", help="logical=your_field pairs, e.g. "
                                            "problem=question,answer=gold,id=qid."),
    instruction: Optional[str] = typer.Option(None, "--instruction", help="The instruction every record carries "
                                              "(default: one stating the task's answer line)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="The pack folder (default: domains/NAME)."),
    title: Optional[str] = typer.Option(None, "--title", help="A one-line title."),
    license_name: Optional[str] = typer.Option(None, "--license-name", help="The data's licence, e.g. CC-BY-4.0."),
    force: bool = typer.Option(False, "--force", help="Replace an existing pack folder."),
) -> None:
    """Make a domain pack from your own validation, test and seed files."""
    from .packs import init_domain as run

    path = run(name, val, test, task, seeds=seeds, field_map=field_map, instruction=instruction, out=out_dir,
               title=title, license_name=license_name, force=force)
    domain = name if path.resolve() == (Path.cwd() / "domains" / name).resolve() else str(path)
    out.print(f"[green]ok[/]: pack {name!r} written to {path}; edit {path / 'description.md'}, then run "
              f"`data-agent specialize --domain {domain} --teacher ...`", highlight=False)


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A finished run directory.")) -> None:
    """(Re)write report.md and the plot of a run."""
    from .report import write_report

    out.print(str(write_report(run_dir)))


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help="A run directory (a run that has not finished exports what it has)."),
    to: Path = typer.Option(..., "--to", help="The folder to write (must not exist or be empty)."),
    format: str = typer.Option("parquet", "--format", help="parquet, jsonl or arrow (save_to_disk)."),
    what: str = typer.Option("submission", "--what", help="submission (the chosen iteration's), pool (every "
                             "generated record, with verdicts) or accepted (every accepted record)."),
    all_iterations: bool = typer.Option(False, "--all-iterations", help="Add one split per iteration (iter_01, ...)."),
    push_to_hub: Optional[str] = typer.Option(None, "--push-to-hub", help="Upload to this dataset repository "
                                              "(OWNER/NAME, or NAME in the token owner's namespace) with the token in "
                                              "HF_TOKEN; needs HF_HUB_OFFLINE=0."),
    private: bool = typer.Option(False, "--private", help="Make a new Hub repository private."),
) -> None:
    """Write a run's data as a Hugging Face dataset with a dataset card (README.md)."""
    from .api import export as run

    dd = run(run_dir, to=to, format=format, what=what, all_iterations=all_iterations, push_to_hub=push_to_hub,
             private=private)
    splits = ", ".join(f"{s} ({len(ds)})" for s, ds in dd.items())
    out.print(f"[green]ok[/]: {to} ({format}; {splits})" + (f"; pushed to {push_to_hub}" if push_to_hub else ""),
              highlight=False)


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
    import signal
    import threading

    from .ui import on_interrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_interrupt)
    usage_errors, exits, aborts = _click_errors()
    try:
        rc = app(standalone_mode=False)  # an interrupt comes back as the exit code 130, not as an exception
        if rc == 130:
            raise KeyboardInterrupt
        if isinstance(rc, int) and rc:
            sys.exit(rc)
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
