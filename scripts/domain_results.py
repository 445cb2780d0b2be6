#!/usr/bin/env python
"""Every domain's quick result: the base student on each pack's validation split, and the CPU default run.

For each domain (default: every pack the offline symbolic teacher has a library for):

1. ``data-agent evaluate --domain D --split val --model <the cpu preset's student>`` with the cpu
   preset's decoding budget: the base student's accuracy (with its 95% interval) and format
   compliance on the whole validation split (``--limit N``: a deterministic, source-stratified
   subset of N problems);
2. unless ``--skip-specialize``: ``data-agent specialize --domain D`` on the cpu defaults, timed,
   and its headline numbers from ``metrics.json``: validation per iteration, test accuracy of the
   base student and of the chosen iteration with the paired-bootstrap 95% interval of the gain,
   format compliance, training seconds and the run's wall time.

Each command is a subprocess of the installed ``data-agent``, as a user would run it; runs go to
``--work-dir`` (default: a new temporary directory). Ends with one markdown table per domain.

    python scripts/domain_results.py                         # science, code, finance
    python scripts/domain_results.py --domains code --skip-specialize --limit 40
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _cli() -> list[str]:
    exe = shutil.which("data-agent")
    return [exe] if exe else [sys.executable, "-m", "data_agent.cli"]


def _run(args: list[str], log: Path) -> tuple[int, float]:
    t0 = time.monotonic()
    with log.open("w", encoding="utf-8") as f:
        rc = subprocess.call(_cli() + args, stdout=f, stderr=subprocess.STDOUT, cwd=REPO,
                             env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return rc, time.monotonic() - t0


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def main(argv: list[str] | None = None) -> int:
    from data_agent.config import load_config
    from data_agent.generators import symbolic

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--domains", nargs="+", default=None,
                   help="domain packs (default: those with a symbolic library: " + ", ".join(sorted(symbolic.LIBRARIES))
                        + ")")
    p.add_argument("--limit", type=int, default=None, help="score a subset of N validation problems (default: all)")
    p.add_argument("--skip-specialize", action="store_true", help="only the base student's validation scores")
    p.add_argument("--work-dir", default=None, help="where outputs and logs go (default: a new temporary directory)")
    a = p.parse_args(argv)
    if a.limit is not None and a.limit < 1:
        p.error("--limit must be >= 1")
    domains = a.domains or sorted(symbolic.LIBRARIES)
    cfg = load_config("cpu")
    work = Path(a.work_dir or tempfile.mkdtemp(prefix="domain-results-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir {work}; student {cfg.student}, {cfg.eval.max_new_tokens} new tokens; {os.cpu_count()} cores",
          flush=True)
    failed = 0
    summary: list[str] = []
    for d in domains:
        out = work / f"{d}-base-val.json"
        args = ["evaluate", "--domain", d, "--split", "val", "--model", cfg.student,
                "--max-new-tokens", str(cfg.eval.max_new_tokens), "--output", str(out)]
        if a.limit:
            args += ["--limit", str(a.limit)]
        rc, secs = _run(args, work / f"{d}-evaluate.log")
        if rc != 0:
            print(f"{d}: evaluate failed (exit {rc}); see {work / f'{d}-evaluate.log'}", flush=True)
            failed += 1
            continue
        m = json.loads(out.read_text())["metrics"]
        lo, hi = m["accuracy_ci95"]
        base = (f"base student on {m['n']} validation problems: accuracy {_pct(m['accuracy'])} "
                f"[{_pct(lo)}, {_pct(hi)}], format compliance {_pct(m['format_compliance'])} ({secs:.0f} s)")
        print(f"{d}: {base}", flush=True)
        rows = [f"| base student, validation ({m['n']} problems) | accuracy {_pct(m['accuracy'])} "
                f"[{_pct(lo)}, {_pct(hi)}], format {_pct(m['format_compliance'])} |"]
        if not a.skip_specialize:
            run_dir = work / f"{d}-run"
            shutil.rmtree(run_dir, ignore_errors=True)
            rc, secs = _run(["specialize", "--domain", d, "--run-dir", str(run_dir)], work / f"{d}-specialize.log")
            if rc != 0:
                print(f"{d}: specialize failed (exit {rc}); see {work / f'{d}-specialize.log'}", flush=True)
                failed += 1
            else:
                mt = json.loads((run_dir / "metrics.json").read_text())
                t, g = mt["test"], mt["test"]["gain"]
                its = ", ".join(f"iteration {i['iteration']} {_pct(i['val']['accuracy'])} (format "
                                f"{_pct(i['val']['format_compliance'])})" for i in mt["iterations"])
                lo, hi = g["absolute_gain_ci95"]
                print(f"{d}: cpu default run {secs / 60:.1f} min wall; validation: base "
                      f"{_pct(mt['base']['val']['accuracy'])}, {its}; test ({t['n']} of {t['of']}): "
                      f"{_pct(t['base']['accuracy'])} -> {_pct(t['final']['accuracy'])} (gain "
                      f"{100 * g['absolute_gain']:+.1f} points, 95% CI [{100 * lo:+.1f}, {100 * hi:+.1f}]), format "
                      f"{_pct(t['base']['format_compliance'])} -> {_pct(t['final']['format_compliance'])}; "
                      f"training {mt['costs']['train_seconds']:.0f} s", flush=True)
                rows += [f"| cpu default run, validation subset | base {_pct(mt['base']['val']['accuracy'])}; {its} |",
                         f"| cpu default run, test ({t['n']} of {t['of']}) | {_pct(t['base']['accuracy'])} -> "
                         f"{_pct(t['final']['accuracy'])}, gain {100 * g['absolute_gain']:+.1f} points "
                         f"[{100 * lo:+.1f}, {100 * hi:+.1f}]; format {_pct(t['base']['format_compliance'])} -> "
                         f"{_pct(t['final']['format_compliance'])} |",
                         f"| cpu default run, time | {secs / 60:.1f} min wall, training "
                         f"{mt['costs']['train_seconds']:.0f} s |"]
        summary.append(f"\n{d}\n\n| | |\n|---|---|\n" + "\n".join(rows))
    print("".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
