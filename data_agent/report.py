"""Human-readable summary of a run: ``report.md`` and ``progress.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import DataAgentError
from .records import atomic_write_text


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _ci(ci) -> str:
    if not ci or ci[0] is None:
        return "n/a"
    return f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}] pts"


def plot(run_dir: Path, metrics: dict[str, Any]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    its = [0] + [i["iteration"] for i in metrics["iterations"]]
    acc = [metrics["base"]["val"]["accuracy"]] + [i["val"]["accuracy"] for i in metrics["iterations"]]
    fmt = [metrics["base"]["val"]["format_compliance"]] + [i["val"]["format_compliance"] for i in metrics["iterations"]]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(its, acc, "o-", label="accuracy")
    a1.plot(its, fmt, "s--", label="format compliance")
    a1.set_xticks(its, ["base"] + [str(i) for i in its[1:]])
    a1.set_xlabel("iteration")
    a1.set_ylim(-0.02, 1.02)
    a1.set_title(f"validation (n={metrics['base']['val']['n']})")
    a1.axvline(metrics["best_iteration"], color="grey", lw=0.8, ls=":")
    a1.legend()
    t = metrics["test"]
    vals = [t["base"]["accuracy"], t["final"]["accuracy"]]
    errs = [[v - t[k]["accuracy_ci95"][0] for v, k in zip(vals, ("base", "final"))],
            [t[k]["accuracy_ci95"][1] - v for v, k in zip(vals, ("base", "final"))]]
    a2.bar(["base", f"iteration {metrics['best_iteration']}"], vals, yerr=errs, capsize=6, color=["#999", "#2a7"])
    a2.set_ylim(0, max(0.1, max(t["base"]["accuracy_ci95"][1], t["final"]["accuracy_ci95"][1]) * 1.2))
    a2.set_title(f"test accuracy (n={t['n']} of {t['of']}, 95% CI)")
    fig.suptitle(f"data-agent: {metrics['domain']} / {metrics['student']}")
    fig.tight_layout()
    out = Path(run_dir) / "progress.png"
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _stops(d: dict[str, Any] | None) -> str:
    if not d:
        return "not recorded"
    if d.get("cached"):
        return "outputs reused from the evaluation cache"
    return ", ".join(f"{k} {d.get(k, 0)}" for k in ("answer", "eos", "loop", "limit")) + f" ({d.get('precision', '?')})"


def _decoding_lines(dec: dict[str, Any] | None) -> list[str]:
    """How both students were decoded, and why their test sequences stopped."""
    if not dec:
        return []
    stops = dec.get("test_stops") or {}
    return [f"Decoding, the same for the base and the trained student ({dec['backend']}, at most "
            f"{dec['max_new_tokens']} new tokens): {dec['rule']}. Why test sequences stopped: base student: "
            f"{_stops(stops.get('base'))}; trained student: {_stops(stops.get('final'))}.", ""]


def _feedback_lines(metrics: dict[str, Any]) -> list[str]:
    """The failure classes of every iteration on validation, and a few failures
    of the last one: what the engineer reflected on."""
    its = [it for it in metrics["iterations"] if it.get("feedback")]
    if not its:
        return []
    classes = sorted({c for it in its for c in it["feedback"].get("failure_classes", {})})
    out = ["", "## Error analysis (validation)", "",
           "What the engineer reflects on after each iteration (`iter-NN/feedback.json`: also per-skill accuracy, "
           "the pool's rejections and the costs). Wrong validation answers by failure class:", ""]
    if classes:
        out += ["| failure | " + " | ".join(f"iteration {it['iteration']}" for it in its) + " |",
                "|---|" + "---|" * len(its)]
        for c in classes:
            out.append(f"| {c} | " + " | ".join(str(it["feedback"]["failure_classes"].get(c, 0)) for it in its)
                       + " |")
    last = its[-1]
    sample = last["feedback"].get("failures_sample") or []
    if sample:
        out += ["", f"A sample of iteration {last['iteration']}'s failures:", ""]
        for f in sample:
            problem = " ".join(str(f.get("problem", "")).split())[:240]
            output = " ".join(str(f.get("output", "")).split())[:240]
            out += [f"- `{f.get('id')}` ({f.get('source')}, {f.get('failure')}): gold `{f.get('gold')}`, read "
                    f"`{f.get('extracted')}`. Problem: {problem} Output: {output}"]
    return out


def _selection_lines(metrics: dict[str, Any]) -> list[str]:
    """One line per iteration: the selection policy, how many accepted records
    it chose from and how many of those kept are verified."""
    out = []
    for it in metrics["iterations"]:
        s = it["generation"].get("selection") or {}
        if not s:
            continue
        over = f", over-generating x{s['overgenerate']:g}" if s.get("overgenerate", 1) > 1 else ""
        src = f" from the pool {s['pool']} ({s['pool_records']} records)" if s.get("pool") else ""
        score, policy = "", s.get("policy", "")
        kept_mean, left_mean = s.get(f"mean_{policy}_kept"), s.get(f"mean_{policy}_left_out")
        if kept_mean is not None:
            score = f"; mean student {policy} {kept_mean:.3f} kept" + (
                f", {left_mean:.3f} left out" if left_mean is not None else "")
        out.append(f"- iteration {it['iteration']}: selection `{s['policy']}`{over}{src}: kept {s['kept']} of "
                   f"{s['accepted']} accepted records ({s['verified_kept']} of them verified){score}.")
    return out + [""] if out else []


def _data_check_lines(metrics: dict[str, Any]) -> list[str]:
    """The decontamination and near-duplicate settings, and each iteration's
    rejections by validator and kind of reason."""
    checks = metrics.get("data_checks")
    out = ["", "## Rejected records by reason", ""]
    if checks:
        ng, c, p, nd = (checks.get(k) or {} for k in ("ngram_overlap", "containment", "paraphrase", "near_duplicate"))
        said = [f"any shared word {ng.get('n')}-gram with an evaluation problem (input)"]
        if c:
            said.append(f"containing at least {c['threshold']:.0%} of an evaluation item's word 3-grams, numbers "
                        f"masked (input or output; {c['items'].get('val', 0)} validation and "
                        f"{c['items'].get('test', 0)} test items fingerprinted)")
        if p:
            th = p.get("thresholds") or {}
            said.append(f"a paraphrase of one (input): estimated {p['model']} cosine, numbers masked, at least "
                        f"{th.get('cosine')} ({th.get('cosine_few_numbers')} for an item with under two numbers), "
                        f"holding {th.get('numbers', 0):.0%} of the item's numbers")
        else:
            said.append("no containment or paraphrase check: the pack has no per-item fingerprints")
        out += [f"Decontamination rejects a record for {'; '.join(said)}. Near-duplicates of this pool's and "
                f"earlier iterations' records: word 3-gram Jaccard at least {nd.get('jaccard')}, or embedding "
                f"cosine at least {nd.get('cosine')} with numbers masked"
                + (f" and the same numbers (Jaccard at least {nd['numbers']})" if nd.get("numbers") is not None
                   else "") + ".", ""]
    kinds = sorted({k for it in metrics["iterations"]
                    for k in (it["generation"]["validation"].get("rejected_by_kind") or
                              it["generation"]["validation"].get("rejected_by_reason") or {})})
    out += _selection_lines(metrics)
    if not kinds:
        return out + ["No record was rejected."]
    out += ["| validator: reason | " + " | ".join(f"iteration {it['iteration']}" for it in metrics["iterations"])
            + " |", "|---|" + "---|" * len(metrics["iterations"])]
    for k in kinds:
        out.append(f"| {k} | " + " | ".join(
            str((it["generation"]["validation"].get("rejected_by_kind")
                 or it["generation"]["validation"].get("rejected_by_reason") or {}).get(k, 0))
            for it in metrics["iterations"]) + " |")
    return out


def render_markdown(metrics: dict[str, Any]) -> str:
    t = metrics["test"]
    g = t["gain"]
    rel = ("undefined (base accuracy is 0)" if g["relative_gain"] is None
           else f"{100 * g['relative_gain']:+.1f}% (95% CI {_ci(g['relative_gain_ci95']).replace(' pts', '')})")
    lines = [
        f"# data-agent run: {metrics['domain']}",
        "",
        f"- student: `{metrics['student']}`, teacher: `{metrics['teacher']}`, engineer: `{metrics['engineer']}`, "
        f"preset: `{metrics['preset']}`",
        f"- records per iteration: {metrics['n_records']}; iterations: {len(metrics['iterations'])}; "
        f"chosen iteration (by validation): {metrics['best_iteration']}",
        "",
        "## Test (scored once, at the end)",
        "",
        f"{t['n']} of {t['of']} test problems" + (" (deterministic, source-stratified subset)" if t["subset"] else "")
        + ".",
        "",
        "| | accuracy | 95% CI | format compliance |",
        "|---|---|---|---|",
        f"| base student | {_pct(t['base']['accuracy'])} | [{_pct(t['base']['accuracy_ci95'][0])}, "
        f"{_pct(t['base']['accuracy_ci95'][1])}] | {_pct(t['base']['format_compliance'])} |",
        f"| iteration {metrics['best_iteration']} | {_pct(t['final']['accuracy'])} | "
        f"[{_pct(t['final']['accuracy_ci95'][0])}, {_pct(t['final']['accuracy_ci95'][1])}] | "
        f"{_pct(t['final']['format_compliance'])} |",
        "",
        f"Absolute gain: {100 * g['absolute_gain']:+.1f} points (paired bootstrap 95% CI "
        f"{_ci(g['absolute_gain_ci95'])}). Relative gain: {rel}.",
        "",
    ]
    lines += _decoding_lines(metrics.get("decoding"))
    lines += [
        "## Validation per iteration",
        "",
        "| iteration | accuracy | 95% CI | format | records | requests | rejected | train loss | train s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| base | {_pct(metrics['base']['val']['accuracy'])} | [{_pct(metrics['base']['val']['accuracy_ci95'][0])}, "
        f"{_pct(metrics['base']['val']['accuracy_ci95'][1])}] | {_pct(metrics['base']['val']['format_compliance'])} "
        f"| | | | | |",
    ]
    for it in metrics["iterations"]:
        v = it["val"]
        rej = it["generation"]["validation"].get("rejected_by_reason", {})
        lines.append(
            f"| {it['iteration']} | {_pct(v['accuracy'])} | [{_pct(v['accuracy_ci95'][0])}, "
            f"{_pct(v['accuracy_ci95'][1])}] | {_pct(v['format_compliance'])} | {it['plan']['n_records']} | "
            f"{it['generation']['requests']} | {', '.join(f'{k}: {n}' for k, n in rej.items()) or 'none'} | "
            f"{(it['train'] or {}).get('train_loss', float('nan')):.3f} | {(it['train'] or {}).get('seconds', 0)} |")
    lines += _data_check_lines(metrics)
    lines += _feedback_lines(metrics)
    traj = metrics.get("trajectory") or []
    if traj:
        lines += ["", "## Trajectory", "", "One row per iteration (`trajectory.json`): the method card applied, new "
                  "family or local tweak, the selection, the teacher's cost and the validation outcome.", "",
                  "| iteration | card [bucket] | kind | selection | requests | tokens | $ | validation accuracy "
                  "[95% CI] | gain over the best before |", "|---|---|---|---|---|---|---|---|---|"]
        for r in traj:
            ci = r["val"].get("accuracy_ci95") or [None, None]
            lines.append(f"| {r['iteration']} | {r['card'] or '-'} [{r['bucket'] or '-'}] | {r['kind']} | "
                         f"{r['selection']} | {r['cost']['requests']} | {r['cost']['tokens']} | "
                         f"{r['cost']['dollars']:.4f} | {_pct(r['val']['accuracy'])} [{_pct(ci[0])}, {_pct(ci[1])}] | "
                         f"{100 * r['gain_over_best_before']:+.1f} pts |")
    wire = metrics.get("wire_audit") or {}
    if wire:
        roles = ", ".join(f"{r} {n}" for r, n in (wire.get("checked_by_role") or {}).items()) or "none"
        lines += ["", f"Wire audit: {wire.get('checked', 0)} outbound requests checked against the test items' "
                      f"n-grams before they were sent ({roles}); {len(wire.get('blocked') or [])} stopped. Rule: "
                      f"{wire.get('rule', '')}."]
    st = metrics.get("stopping") or {}
    if st:
        if st.get("reason"):
            said = f"stopped after iteration {st['after_iteration']} of {st['iterations_planned']}: {st['reason']}."
        elif st.get("patience"):
            said = (f"all {st['iterations_run']} iterations ran: the rule (stop after {st['patience']} without a "
                    f"validation gain beyond the interval) did not fire.")
        else:
            said = f"no stopping rule (--patience unset): all {st['iterations_run']} iterations ran."
        lines += ["", f"Stopping: {said}"]
        decisions = [f"- iteration {r['iteration']}: {r['stopping']['decision']}: {r['stopping']['reason']}"
                     for r in traj if r.get("stopping")]
        if decisions:
            lines += ["", "The engineer's stopping decision in each plan:", "", *decisions]
    lines += ["", "## What the engineer changed", ""]
    for it in metrics["iterations"]:
        lines.append(f"- iteration {it['iteration']}: " + "; ".join(it["plan"]["changes"] or (
            ["initial plan"] if it["iteration"] == 1 else ["no change listed by the engineer"])))
    per = t["final"].get("per_source", {})
    if per:
        lines += ["", "## Test accuracy per source", "", "| source | n | base | final |", "|---|---|---|---|"]
        for s, m in per.items():
            b = t["base"]["per_source"].get(s, {})
            lines.append(f"| {s} | {m['n']} | {_pct(b.get('accuracy'))} | {_pct(m['accuracy'])} |")
    lines += ["", "![progress](progress.png)", ""]
    return "\n".join(lines)


def write_report(run_dir: Path, metrics: dict[str, Any] | None = None) -> Path:
    run_dir = Path(run_dir)
    if metrics is None:
        p = run_dir / "metrics.json"
        if not p.is_file():
            raise DataAgentError(f"{p}: file not found (the run has not finished; `data-agent resume {run_dir}`)")
        metrics = json.loads(p.read_text(encoding="utf-8"))
    plot(run_dir, metrics)
    out = run_dir / "report.md"
    atomic_write_text(out, render_markdown(metrics))
    return out
