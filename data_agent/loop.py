"""The specialize loop and its resume.

One iteration = plan -> generate -> validate -> select -> train -> evaluate on
validation -> reflect. The iteration with the best validation score is the
result; only it and the untouched base student are scored on the test split,
once, at the very end (inside :func:`data_agent.domain.unsealed_test`).

Every step writes its artifacts atomically and then records itself in
``state.json``; ``resume`` skips what is done, so a killed run continues where
it stopped and Ctrl+C always leaves a resumable state.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

from .config import RunConfig, apply_overrides, settings
from .domain import Domain, load_domain, read_audit, stratified_subset, unsealed_test
from .engineer import EngineerContext, Feedback, Plan, make_engineer
from .engineer.methods import plateau
from .errors import DataAgentError
from .generators.generate import generate_for_plan
from .generators.engine.llm_session import TeacherStopped
from .generators.engine.wire_audit import WireAudit
from .ui import check_interrupted
from .generators.engine.factory import make_teacher_session
from .records import JsonlAppender, atomic_write_json, truncate_torn_tail, write_submission
from .report import write_report
from .stats import paired_gain
from .trainers.evaluate import evaluate_model
from .trainers.sft import train
from .models import resolve_student
from .ui import Reporter
from .validators import decontamination_settings, default_pipeline


class RunState:
    """``state.json``: the steps that are done, in order, with their results.

    An unreadable ``state.json`` (truncated, empty, not a run state) is a
    one-line :class:`DataAgentError` with the way out: delete it and resume,
    which redoes the steps in the same directory (teacher answers already in the
    iteration pools and cached evaluations are reused)."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / "state.json"
        if self.path.exists():
            self.data = self._read()
        else:
            self.data = {"status": "running", "steps": {}, "order": []}

    def _read(self) -> dict[str, Any]:
        way_out = (f"delete it and run `data-agent resume {self.path.parent}` to redo the run's steps there, "
                   f"or start a new run with `data-agent specialize`")
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # ValueError: malformed JSON or bytes that are not UTF-8
            why = "empty" if not self.path.read_bytes().strip() else f"malformed JSON: {e}"
            raise DataAgentError(f"{self.path}: unreadable ({why}); {way_out}") from None
        if not (isinstance(data, dict) and isinstance(data.get("steps"), dict)
                and isinstance(data.get("order", []), list)):
            raise DataAgentError(f"{self.path}: not a run state (expected an object with a 'steps' object); "
                                 f"{way_out}")
        data.setdefault("order", [])
        data.setdefault("status", "running")
        return data

    def done(self, step: str) -> bool:
        return step in self.data["steps"]

    def get(self, step: str) -> Any:
        return self.data["steps"][step]

    def mark(self, step: str, info: Any = True) -> None:
        self.data["steps"][step] = info
        self.data["order"].append(step)
        self.save()
        check_interrupted()  # a Ctrl+C that a library swallowed stops the run here, the step saved

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()

    def save(self) -> None:
        atomic_write_json(self.path, self.data)


LOCK_FILE = ".lock"
"""The run directory's lock file: ``specialize`` and ``resume`` hold an exclusive
``flock`` on it for the whole run; it holds the holder's pid."""


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run directory's exclusive lock: one writer per run directory.

    A second process gets a :class:`DataAgentError` naming the holder's pid. The
    lock is the kernel's (``flock``), so it goes when the holder exits, however
    it exits (SIGKILL included); the file itself stays and is reused.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise DataAgentError(f"{run_dir} is in use by another data-agent process (pid {holder}); "
                                 f"wait for it to finish or stop it, then resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)  # explicitly: a forked child may still share the descriptor
    finally:
        os.close(fd)


EVENTS_FILE = "events.jsonl"
"""The run's log of things repaired or worth knowing later, one JSON object a line."""


def log_event(run_dir: Path, event: str, **fields: Any) -> None:
    """Append ``{"at": <now>, "event": event, **fields}`` to the run's :data:`EVENTS_FILE`."""
    JsonlAppender(Path(run_dir) / EVENTS_FILE).append(
        [{"at": _dt.datetime.now().isoformat(timespec="seconds"), "event": event, **fields}])


def _repair_pool(run_dir: Path, pool_path: Path, reporter: Reporter) -> None:
    """Cut a torn last line (a crash or a full disk mid-append) off a pool before
    it is read and appended to, and log it."""
    dropped = truncate_torn_tail(pool_path)
    if dropped:
        log_event(run_dir, "torn-tail-truncated", file=str(pool_path.relative_to(run_dir)), bytes_dropped=dropped)
        reporter.info(f"{pool_path}: dropped a torn last line ({dropped} bytes) left by an interrupted write")


def new_run_dir(domain: str, root: Path | None = None) -> Path:
    root = Path(root or Path.cwd() / "submissions")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    d = root / domain / stamp
    n = 1
    while d.exists():
        n += 1
        d = root / domain / f"{stamp}-{n}"
    return d


def specialize(cfg: RunConfig, run_dir: Path | None = None, reporter: Reporter | None = None,
               submissions_root: Path | None = None) -> Path:
    """Start a new run; returns its run directory."""
    domain = load_domain(cfg.domain)  # fail fast on a broken pack, before creating anything
    check = domain.check_rows()  # a broken row of any split fails now, not at the final step
    check_specs(cfg, domain)
    run_dir = Path(run_dir) if run_dir else new_run_dir(domain.name, submissions_root)
    with run_lock(run_dir):  # before the check: a run still in progress is reported as such
        if (run_dir / "state.json").exists():
            raise DataAgentError(f"{run_dir} already holds a run: use `data-agent resume {run_dir}`")
        atomic_write_json(run_dir / "config.json", cfg.to_dict())
        atomic_write_json(run_dir / "audit.json", {"test_reads": [], "test_checks": [check]})
        RunState(run_dir).save()
        return _run(run_dir, cfg, domain, reporter or Reporter())


def check_specs(cfg: RunConfig, domain: Domain | None = None) -> None:
    """Reject a malformed teacher/engineer spec, a missing API key, a symbolic
    teacher for a domain it has no templates for, or the vLLM eval backend
    without vLLM, before any work starts."""
    make_engineer(cfg.engineer)
    from .generators.selection import POLICIES

    if cfg.selection not in POLICIES:
        raise DataAgentError(f"unknown selection policy {cfg.selection!r} (known: {', '.join(POLICIES)})")
    if cfg.pool:
        if domain is not None:
            from .generators.curate import read_user_pool

            read_user_pool(cfg.pool, domain)  # a malformed line fails now, naming it
    elif cfg.teacher == "symbolic" and domain is not None:
        from .generators.engine.symbolic_session import SymbolicSession

        SymbolicSession(domain)  # raises for a domain without a template library
    if cfg.teacher != "symbolic" and not cfg.pool:
        from .generators.teachers.specs import parse_spec, require_key

        require_key(parse_spec(cfg.teacher))
    if cfg.eval.backend == "vllm":
        from .trainers.vllm_eval import check_vllm

        check_vllm()


RESUME_OVERRIDES = tuple(s.key for s in settings() if s.resumable)
"""Settings a resumed run may change (those marked ``resumable`` in
:mod:`data_agent.config`): budgets and rates, nothing that changes what is generated."""


def resume(run_dir: Path, reporter: Reporter | None = None, overrides: dict[str, Any] | None = None) -> Path:
    """Continue a run from its ``state.json``.

    ``overrides`` (keys from :data:`RESUME_OVERRIDES`, ``None`` values ignored)
    change the run's budgets or rates, e.g. to continue after a budget stop; the
    change is written to ``config.json`` and logged in ``state.json``.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise DataAgentError(f"{run_dir}: not a run directory (no config.json; `data-agent specialize` starts a run)")
    with run_lock(run_dir):
        return _resume_locked(run_dir, reporter, overrides)


def _resume_locked(run_dir: Path, reporter: Reporter | None, overrides: dict[str, Any] | None) -> Path:
    RunState(run_dir)  # an unreadable state.json fails here, with its way out; a missing one starts afresh
    try:
        data = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        cfg = RunConfig.from_dict(data)
    except (OSError, ValueError, TypeError) as e:  # ValueError: malformed JSON (JSONDecodeError) or a bad value
        why = "empty" if not (run_dir / "config.json").read_bytes().strip() else str(e)
        raise DataAgentError(f"{run_dir / 'config.json'}: unreadable ({why}); the run cannot continue without its "
                             f"settings: restore the file, or start a new run with `data-agent specialize`") from None
    changes = {k: v for k, v in (overrides or {}).items() if v is not None}
    bad = sorted(set(changes) - set(RESUME_OVERRIDES))
    if bad:
        raise DataAgentError(f"a resumed run cannot change {', '.join(bad)} (allowed: budgets and rates)")
    if changes:
        cfg = apply_overrides(cfg, changes)
        atomic_write_json(run_dir / "config.json", cfg.to_dict())
        state = RunState(run_dir)
        state.data.setdefault("config_changes", []).append({"at": _dt.datetime.now().isoformat(timespec="seconds"),
                                                            "changes": changes})
        state.save()
    domain = load_domain(cfg.domain)
    check = domain.check_rows()  # the pack may have changed since: a broken row fails now
    audit = read_audit(run_dir / "audit.json")
    audit.setdefault("test_checks", []).append(check)
    atomic_write_json(run_dir / "audit.json", audit)
    return _run(run_dir, cfg, domain, reporter or Reporter())


def _store_generation(d: Path, state: RunState, it: int, res: Any, usage: dict[str, Any], teacher: str) -> None:
    """An iteration's submission, lineage and generation.json; then the step is done."""
    write_submission(d / "submission.json", res.records)
    lineage = [{"index": k, "id": r.id, "template": r.template, "topic": r.topic, "difficulty": r.difficulty,
                "generator": r.generator, "verification": r.verification} for k, r in enumerate(res.records)]
    atomic_write_json(d / "lineage.json", lineage)
    gen_info = {"requests": res.requests, "validation": res.pipeline, "selection": res.selection, "notes": res.notes,
                "teacher_usage": {"teacher": teacher, **usage}}
    atomic_write_json(d / "generation.json", gen_info)
    state.mark(f"iter-{it:02d}/generate", gen_info)


def _write_feedback(d: Path, it: int, domain: Domain, val_items: list, topics: dict, session: Any,
                    cfg: RunConfig) -> None:
    from .feedback import build_feedback

    if not (d / "eval-val.json").is_file():  # nothing to analyse (the step's file was removed)
        return
    ev = json.loads((d / "eval-val.json").read_text())
    gen = json.loads((d / "generation.json").read_text()) if (d / "generation.json").is_file() else {}
    budgets = {k: getattr(cfg.teachers, k) for k in ("max_calls", "max_total_tokens", "max_dollars")}
    doc = build_feedback(iteration=it, rows=ev["items"], items={i.id: i for i in val_items}, metrics=ev["metrics"],
                         skills=topics, generation=gen, usage=session.usage(), budgets=budgets, seed=cfg.seed)
    atomic_write_json(d / "feedback.json", doc)


def current_student(run_dir: Path, state: RunState, base_student: Any) -> Any:
    """The student as it is now: the best iteration's model so far, else the base student."""
    best = state.data.get("best_iteration")
    if best:
        model = run_dir / f"iter-{int(best):02d}" / "model"
        if (model / "config.json").is_file():
            return model
    return base_student


def _selection_context(run_dir: Path, state: RunState, student: Any, plan: Plan, cfg: RunConfig):
    """What the plan's selection policy computes on: the current student's
    per-record loss and EL2N for the ``loss``/``el2n`` policies."""
    from .generators.selection import NEEDS_SCORES, SelectionContext
    from .trainers.record_scores import scorer_for

    policy, _ = plan.selection_choice(cfg.selection)
    if policy not in NEEDS_SCORES:
        return SelectionContext()
    model = current_student(run_dir, state, student)
    return SelectionContext(scores=scorer_for(model, max_length=cfg.train.max_length), student=str(model))


def _eval(model_path, items, domain: Domain, cfg: RunConfig, reporter: Reporter, label: str, cache: bool = False):
    """(metrics, rows, decoding stats) of ``model_path`` on ``items``."""
    stats: dict[str, Any] = {}
    with reporter.counting(label, len(items)) as cb:
        m, rows = evaluate_model(model_path, items, domain.instruction, task=domain.task,
                                 max_new_tokens=cfg.eval.max_new_tokens, batch_size=cfg.eval.batch_size,
                                 bf16=cfg.eval.bf16, stop_loops=cfg.eval.stop_loops, backend=cfg.eval.backend,
                                 cache=cache, progress_cb=cb,
                                 stats=stats)
    return m, rows, stats


def _eval_file(metrics, rows, split: str, n_split: int, decoding: dict[str, Any] | None = None) -> dict[str, Any]:
    m = metrics.to_dict()
    m["split"] = split
    m["subset"] = None if m["n"] == n_split else {"n": m["n"], "of": n_split, "how": "deterministic, source-stratified"}
    out: dict[str, Any] = {"metrics": m, "items": rows}
    if decoding:
        out["decoding"] = decoding
    return out


def _run(run_dir: Path, cfg: RunConfig, domain: Domain, reporter: Reporter) -> Path:
    state = RunState(run_dir)
    state.set("status", "running")
    if not (run_dir / "audit.json").is_file():  # every read of the test split is appended here
        atomic_write_json(run_dir / "audit.json", {"test_reads": []})
    for pool in sorted(run_dir.glob("iter-*/pool.jsonl")):  # a torn tail left by the previous process, if any
        _repair_pool(run_dir, pool, reporter)
    t_start = time.time()
    student = resolve_student(cfg.student)
    if cfg.pool:
        from .generators.curate import PoolSession

        session = PoolSession(cfg.pool, domain, run_dir, verify=cfg.teachers.verify)
    else:
        session = make_teacher_session(cfg.teacher, domain, run_dir, cfg.teachers)
    try:
        engineer = make_engineer(cfg.engineer, run_dir=run_dir, cache_dir=cfg.teachers.cache_dir,
                                 use_cache=cfg.teachers.use_cache)
        # Every outbound engineer and teacher request is checked against the test items' n-grams first.
        audit = WireAudit(domain.fingerprints, run_dir / "audit.json")
        if getattr(session, "runner", None) is not None:
            session.runner.wire_audit = audit
        if hasattr(engineer, "wire_audit"):
            engineer.wire_audit = audit
        audit.flush()
        try:
            return _steps(run_dir, cfg, domain, reporter, state, t_start, student, session, engineer)
        except TeacherStopped as e:
            raise TeacherStopped(f"{e} [RUN_DIR: {run_dir}]") from None
        finally:
            _close(engineer)
    finally:
        _close(session)  # saves the teacher's spending counters, closes its cache and client


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        close()


def _steps(run_dir: Path, cfg: RunConfig, domain: Domain, reporter: Reporter, state: RunState, t_start: float,
           student: Any, session: Any, engineer: Any) -> Path:
    val_all = domain.val_items()
    val_items = domain.val_items(cfg.eval.val_subset) if cfg.eval.val_subset else val_all
    reporter.info(f"[bold]data-agent[/] {domain.name}: run {run_dir}")

    # ---- base student on validation (cached across runs)
    if not state.done("base/eval-val"):
        m, rows, dec = _eval(student, val_items, domain, cfg, reporter, "base student: validation", cache=True)
        atomic_write_json(run_dir / "base" / "eval-val.json", _eval_file(m, rows, "val", len(val_all), dec))
        state.mark("base/eval-val", m.to_dict())
    base_val = state.get("base/eval-val")
    reporter.info(f"base student: validation accuracy {base_val['accuracy']:.3f}, "
                  f"format {base_val['format_compliance']:.3f}")

    topics = session.topics()
    history: list[dict[str, Any]] = []
    for it in range(1, cfg.iterations + 1):
        stop = stopping_decision([base_val] + [h["val"] for h in history], cfg.patience)
        if stop:
            state.set("stopping", {"after_iteration": it - 1, "reason": stop, "by": "rule", "patience": cfg.patience})
            reporter.info(f"stopping before iteration {it}: {stop}")
            break
        d = run_dir / f"iter-{it:02d}"
        teacher_label = session.name if cfg.pool else cfg.teacher
        ctx = EngineerContext(domain_name=domain.name, domain_description=domain.description, teacher=teacher_label,
                              n_records=cfg.n_records, iteration=it, topics=topics,
                              source_subject=domain.manifest.get("sources", {}), base_val=base_val,
                              history=list(history),
                              selection={"policy": cfg.selection, "overgenerate": cfg.overgenerate},
                              scaffold=cfg.scaffold, seed_ids=[str(r.get("id", "")) for r in domain.seeds()])
        # plan / reflect
        if not state.done(f"iter-{it:02d}/plan"):
            if it == 1:
                plan = engineer.plan(ctx)
            else:
                last_val = json.loads((run_dir / f"iter-{it - 1:02d}" / "eval-val.json").read_text())
                bad = [{"id": r["id"], "source": r["source"]} for r in last_val["items"] if not r["correct"]]
                fb_path = run_dir / f"iter-{it - 1:02d}" / "feedback.json"
                doc = json.loads(fb_path.read_text()) if fb_path.is_file() else {}
                plan = engineer.reflect(ctx, Feedback(val=last_val["metrics"], bad_cases=bad, document=doc))
            atomic_write_json(d / "plan.json", plan.to_dict())
            state.mark(f"iter-{it:02d}/plan")
        plan = Plan.from_dict(json.loads((d / "plan.json").read_text()))
        if plan.stops():  # the engineer's own decision: no data is made for this plan
            why = f"the engineer decided to stop: {plan.stopping['reason']}"
            state.set("stopping", {"after_iteration": it - 1, "reason": why, "by": "engineer",
                                   "patience": cfg.patience})
            reporter.info(f"stopping before iteration {it}: {why}")
            break
        reporter.info(f"[bold]iteration {it}[/]: {plan.rationale}")

        # generate + validate + select
        if not state.done(f"iter-{it:02d}/generate") and cfg.pool:
            sel_ctx = _selection_context(run_dir, state, student, plan, cfg)
            with reporter.progress(f"iteration {it}: checking and selecting from the pool",
                                   len(session.records)) as update:
                res = session.curate(plan, run_seed=cfg.seed, selection=cfg.selection, selection_context=sel_ctx,
                                     progress=lambda done, total: update(completed=done, total=total))
            _store_generation(d, state, it, res, session.usage()["iteration"], teacher_label)
        if not state.done(f"iter-{it:02d}/generate"):
            earlier = [(f"iteration {j} record {k}", r["input"])
                       for j in range(1, it) if (run_dir / f"iter-{j:02d}" / "submission.json").is_file()
                       for k, r in enumerate(json.loads((run_dir / f"iter-{j:02d}" / "submission.json").read_text()))]
            consistency = None
            if cfg.teachers.self_consistency > 1 and hasattr(session, "solve"):  # LLM teachers
                from .validators.verify import SelfConsistencyValidator

                consistency = SelfConsistencyValidator(domain.task, session.solve, cfg.teachers.self_consistency,
                                                       cfg.teachers.agreement)
            pipeline = default_pipeline(domain, earlier, verify=cfg.teachers.verify, self_consistency=consistency)
            if callable(getattr(session, "use_plan", None)):  # new skills, guidance and seeds of the plan
                session.use_plan(plan)
            sel_ctx = _selection_context(run_dir, state, student, plan, cfg)
            session.meter.ensure_iteration(it)  # the iteration's own counts and budget (kept across a resume)
            with reporter.progress(f"iteration {it}: generating", plan.n_records) as update:
                res = generate_for_plan(
                    plan, domain, teacher_name=cfg.teacher, call=session.call, build=session.build,
                    pipeline=pipeline, pool_path=d / "pool.jsonl", run_seed=cfg.seed,
                    max_requests=int(cfg.n_records * cfg.max_generation_factor), selection=cfg.selection,
                    selection_context=sel_ctx,
                    progress=lambda done, total: update(completed=done, note=session.note()))
            _store_generation(d, state, it, res, session.usage()["iteration"], cfg.teacher)
        gen_info = state.get(f"iter-{it:02d}/generate")

        # train
        model_dir = d / "model"
        if not state.done(f"iter-{it:02d}/train"):
            records = json.loads((d / "submission.json").read_text())
            with reporter.progress(f"iteration {it}: training ({cfg.train.method})", None) as update:
                stats = train(student, records, model_dir, cfg.train,
                              progress_cb=lambda s, total: update(completed=s, total=total))
            state.mark(f"iter-{it:02d}/train", stats)
        train_info = state.get(f"iter-{it:02d}/train")

        # evaluate on validation
        if not state.done(f"iter-{it:02d}/eval-val"):
            if not (model_dir / "config.json").is_file():
                raise DataAgentError(f"{model_dir}: trained model missing; delete the 'iter-{it:02d}/train' step "
                                     f"from state.json to retrain")
            m, rows, dec = _eval(model_dir, val_items, domain, cfg, reporter, f"iteration {it}: validation")
            atomic_write_json(d / "eval-val.json", _eval_file(m, rows, "val", len(val_all), dec))
            state.mark(f"iter-{it:02d}/eval-val", m.to_dict())
            _select_best(state, cfg, run_dir)
        if not (d / "feedback.json").is_file():  # the error analysis the engineer reflects on (validation only)
            _write_feedback(d, it, domain, val_items, topics, session, cfg)
        val_m = state.get(f"iter-{it:02d}/eval-val")
        reporter.info(f"iteration {it}: validation accuracy {val_m['accuracy']:.3f}, "
                      f"format {val_m['format_compliance']:.3f}")
        history.append({"iteration": it, "plan": plan.to_dict(), "val": val_m, "train": train_info,
                        "generation": gen_info})
        atomic_write_json(run_dir / "trajectory.json", trajectory(base_val, history))

    # ---- the test split: read once, here, for the base student and the chosen iteration
    if not state.done("final/test"):
        _select_best(state, cfg, run_dir)  # idempotent; covers a kill between an evaluation and the selection
    best = state.data["best_iteration"]
    if not state.done("final/test"):
        best_model = run_dir / f"iter-{best:02d}" / "model"
        if not (best_model / "config.json").is_file():
            raise DataAgentError(f"{best_model}: the model of iteration {best} (best on validation) is missing and "
                                 f"the final test needs it; delete the 'iter-{best:02d}/train' step from state.json "
                                 f"and resume to retrain it")
        with unsealed_test(f"final scoring: the base student and iteration {best} (best on validation)",
                           audit=run_dir / "audit.json"):
            test_all = domain.test_items()
        test_items = stratified_subset(test_all, cfg.eval.test_subset) if cfg.eval.test_subset else test_all
        mb, rows_b, dec_b = _eval(student, test_items, domain, cfg, reporter, "base student: test", cache=True)
        atomic_write_json(run_dir / "base" / "eval-test.json", _eval_file(mb, rows_b, "test", len(test_all), dec_b))
        mf, rows_f, dec_f = _eval(best_model, test_items, domain, cfg, reporter, f"iteration {best}: test")
        atomic_write_json(run_dir / f"iter-{best:02d}" / "eval-test.json",
                          _eval_file(mf, rows_f, "test", len(test_all), dec_f))
        gain = paired_gain([r["correct"] for r in rows_b], [r["correct"] for r in rows_f])
        gain["format_compliance"] = {"base": mb.format_compliance, "final": mf.format_compliance}
        state.mark("final/test", {"base": mb.to_dict(), "final": mf.to_dict(), "gain": gain,
                                  "n_split": len(test_all), "decoding": {"base": dec_b, "final": dec_f}})

    metrics = build_metrics(run_dir, cfg, domain, state, history, base_val)
    metrics["costs"]["teacher_total"] = session.usage()  # the whole run, resumed sessions included
    if callable(getattr(engineer, "usage", None)):
        metrics["costs"]["engineer"] = engineer.usage()
    metrics["wall_seconds_this_session"] = round(time.time() - t_start, 1)
    atomic_write_json(run_dir / "metrics.json", metrics)
    write_report(run_dir, metrics)
    # The chosen iteration's submission is the run's submission.
    shutil.copyfile(run_dir / f"iter-{best:02d}" / "submission.json", run_dir / "submission.json")
    state.set("status", "done")
    g = metrics["test"]["gain"]
    rel = "undefined (base is 0)" if g["relative_gain"] is None else f"{g['relative_gain']:+.1%}"
    reporter.info(
        f"[bold green]done[/]: test accuracy {g['base_accuracy']:.3f} -> {g['final_accuracy']:.3f} "
        f"(absolute {g['absolute_gain']:+.3f}, 95% CI [{g['absolute_gain_ci95'][0]:+.3f}, "
        f"{g['absolute_gain_ci95'][1]:+.3f}]; relative {rel}) on {g['n']} test problems. Report: {run_dir / 'report.md'}")
    return run_dir


SELECTION_ORDER: tuple[tuple[str, str], ...] = (("accuracy", "validation accuracy"),
                                                ("format_compliance", "format compliance"))
"""How the best iteration is chosen: ``(validation metric, its name)``, compared
in this order, higher first; a tie on all of them goes to the earlier iteration."""

SELECTION_RULE = (f"best {SELECTION_ORDER[0][1]} (ties: "
                  f"{', '.join(name for _, name in SELECTION_ORDER[1:])}, then the earlier iteration)")
""":data:`SELECTION_ORDER` in words (``selection`` in metrics.json)."""


def trajectory(base_val: dict[str, Any], history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per iteration: the method card and its bucket, whether it is a
    new family (a card no earlier plan applied) or a local tweak, what changed,
    the selection, the plan's stopping decision, the teacher's cost and the
    validation outcome with its interval."""
    rows, used, best = [], set(), base_val["accuracy"]
    for h in history:
        method = h["plan"].get("method") or {}
        card = method.get("card", "")
        kind = "none" if not card else ("local tweak" if card in used else "new family")
        used.add(card)
        usage = h["generation"].get("teacher_usage") or {}
        v = h["val"]
        rows.append({"iteration": h["iteration"], "card": card, "bucket": method.get("bucket", ""), "kind": kind,
                     "adaptation": method.get("adaptation", ""), "changes": h["plan"].get("changes", []),
                     "selection": (h["plan"].get("selection") or {}).get("policy", "first"),
                     "stopping": h["plan"].get("stopping") or {"decision": "continue",
                                                               "reason": "the plan names no decision"},
                     "cost": {k: usage.get(k, 0) for k in ("requests", "tokens", "dollars")},
                     "val": {"accuracy": v["accuracy"], "accuracy_ci95": v.get("accuracy_ci95"),
                             "format_compliance": v.get("format_compliance")},
                     "gain_over_best_before": round(v["accuracy"] - best, 6)})
        best = max(best, v["accuracy"])
    return rows


def stopping_decision(vals: list[dict[str, Any]], patience: int | None) -> str:
    """Why the loop stops now (``""``: go on). ``vals``: the base student's
    validation metrics, then each finished iteration's. ``patience`` iterations in
    a row without a gain beyond the interval (:func:`~data_agent.engineer.methods.plateau`)
    stop the loop."""
    if not patience or len(vals) <= patience:
        return ""
    since, best = plateau(vals)
    if since >= patience:
        return (f"{since} iteration(s) in a row without a validation gain beyond the interval (best accuracy "
                f"{best['accuracy']:.3f}, 95% CI upper end {(best.get('accuracy_ci95') or [0, best['accuracy']])[1]:.3f})")
    return ""


def _select_best(state: RunState, cfg: RunConfig, run_dir: Path) -> None:
    """Choose the best iteration by :data:`SELECTION_ORDER`; with ``keep_models="best"``
    delete the other iterations' models, but only when the best iteration's model
    exists (so the final test always has the model it needs, and a missing one
    is an error saying which step to redo rather than a run left with none)."""
    evals = {int(k.split("/")[0][5:]): v for k, v in state.data["steps"].items()
             if k.startswith("iter-") and k.endswith("/eval-val")}
    best = max(evals, key=lambda i: (*(evals[i][key] for key, _ in SELECTION_ORDER), -i))
    state.set("best_iteration", best)
    # Delete the others only while the best one's model is there: never the last
    # copy of a model, nor one a re-evaluation may still choose.
    if cfg.keep_models == "best" and (run_dir / f"iter-{best:02d}" / "model" / "config.json").is_file():
        for i in evals:
            if i != best:
                shutil.rmtree(run_dir / f"iter-{i:02d}" / "model", ignore_errors=True)


DECODING_RULE = ("greedy; a sequence stops at its answer line, at EOS, at the token limit or, with stop_loops, "
                 "once it repeats a short unit over its tail (scored as no answer, as at the limit); the same "
                 "prompts, limit and rule for the base and the trained student")


def _feedback_summary(path: Path, shown: int = 3) -> dict[str, Any]:
    """An iteration's failure classes and the first few failures of its sample (for the report)."""
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text())
    return {"failure_classes": {k: v["count"] for k, v in doc.get("failure_classes", {}).items()},
            "failures_sample": doc.get("failures_sample", [])[:shown], "file": path.name}


def build_metrics(run_dir: Path, cfg: RunConfig, domain: Domain, state: RunState, history: list[dict[str, Any]],
                  base_val: dict[str, Any]) -> dict[str, Any]:
    final = state.get("final/test")
    best = state.data["best_iteration"]
    iters = [{"iteration": h["iteration"], "val": h["val"], "train": h["train"],
              "generation": {"requests": h["generation"]["requests"],
                             "validation": h["generation"]["validation"],
                             "selection": h["generation"].get("selection") or {},
                             "notes": h["generation"]["notes"]},
              "plan": {"n_records": h["plan"]["n_records"], "changes": h["plan"]["changes"],
                       "topics": len(h["plan"]["allocations"])},
              "feedback": _feedback_summary(run_dir / f"iter-{h['iteration']:02d}" / "feedback.json")}
             for h in history]
    usage = [h["generation"].get("teacher_usage", {}) for h in history]
    return {
        "domain": domain.name,
        "run_dir": str(run_dir),
        "preset": cfg.preset,
        "student": cfg.student,
        "teacher": cfg.teacher,
        "engineer": cfg.engineer,
        "n_records": cfg.n_records,
        "base": {"val": base_val},
        "iterations": iters,
        "best_iteration": best,
        "selection": SELECTION_RULE,
        "trajectory": trajectory(base_val, history),
        "wire_audit": (read_audit(run_dir / "audit.json").get("wire") or {}),
        "stopping": {"patience": cfg.patience, "iterations_planned": cfg.iterations,
                     "iterations_run": len(iters), **(state.data.get("stopping") or {})},
        "test": {
            "n": final["gain"]["n"],
            "of": final["n_split"],
            "subset": final["gain"]["n"] != final["n_split"],
            "base": final["base"],
            "final": final["final"],
            "gain": final["gain"],
        },
        "data_checks": decontamination_settings(domain),
        "decoding": {
            "rule": DECODING_RULE,
            "same_for_base_and_trained": True,
            "backend": cfg.eval.backend,
            "max_new_tokens": cfg.eval.max_new_tokens,
            "stop_loops": cfg.eval.stop_loops,
            "test_stops": final.get("decoding"),
        },
        "costs": {
            "teacher_requests": sum(h["generation"]["requests"] for h in history),
            "teacher_usage": usage,
            "train_seconds": sum((h["train"] or {}).get("seconds", 0) for h in history),
        },
    }
