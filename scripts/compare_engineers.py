#!/usr/bin/env python
"""Engineer comparisons on the same budget and seed: does the engineer help, and does the scaffold?

Two comparisons, each arm a full ``specialize`` run with the same preset, records, iterations and seed:

* ``control``: the heuristic engineer against ``--engineer uniform`` (the same total records spread
  evenly over the topics, no reflection): the "does the engineer help at all" control. Offline.
* ``scaffold``: an LLM engineer with ``--scaffold adapt`` against ``--scaffold open``. With
  ``--engineer-model SPEC`` (and its API key) a real model; without one, the loopback emulator
  answers with scripted replies: in the ``open`` arm the model nudges counts on the same topics
  every iteration (what Curation-Bench saw agents do), in the ``adapt`` arm its first reply does
  the same and the scaffold's check makes it cite a card from another bucket after a plateau. The
  scripted arm tests the wiring, not a model: its numbers say nothing about real engineers.

Per arm it prints the distinct method families tried (the cards of trajectory.json), validation
accuracy per iteration with the 95% interval, test accuracy of the base and the chosen iteration
with the paired 95% interval of the gain, and the cost (teacher and engineer requests, tokens,
dollars).

    python scripts/compare_engineers.py --preset smoke                # minutes: the wiring
    python scripts/compare_engineers.py --preset cpu --only control   # the CPU default, about 30 min
    python scripts/compare_engineers.py --only scaffold --engineer-model openai:gpt-4.1-mini
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _scripted(scaffold: str):
    """A responder for the emulator: plans that only nudge counts, unless the scaffold's error says otherwise."""
    from data_agent.testing.emulator import default_responder

    def plan(messages):
        system = messages[0]["content"]
        user = next(m["content"] for m in messages if m["role"] == "user")
        n = int(re.search(r"exactly N = (\d+)", system).group(1))
        section = user.split("# Topics", 1)[1].split("\n# ", 1)[0] if "# Topics" in user else ""
        topics = [t for t in re.findall(r"^\| ([A-Za-z0-9_]+) \|", section, re.M) if t != "topic"][:4] or ["pool"]
        it = int(re.search(r"Write the plan for iteration (\d+)", user).group(1))
        counts = [n // len(topics) + (1 if i < n % len(topics) else 0) for i in range(len(topics))]
        if len(topics) > 1:  # a local tweak: one record moves each iteration
            shift = min(it - 1, counts[-1] - 1) if counts[-1] > 1 else 0
            counts[0] += shift
            counts[-1] -= shift
        doc = {"allocations": [{"topic": t, "count": c, "difficulty": 1} for t, c in zip(topics, counts) if c > 0],
               "rationale": f"iteration {it}: nudge the counts", "changes": ["one record moved"]}
        last = messages[-1]["content"]
        if scaffold == "adapt":
            card = "self-instruct"
            if "take this plan's card from another bucket" in last:
                card = "k-center" if "(curation or selection)" in last else "self-instruct"
            doc["method"] = {"card": card, "adaptation": "scripted"}
        return doc

    def responder(messages, schema):
        if schema and schema.get("title") == "data-agent plan (model reply)":
            return json.dumps(plan(messages))
        return default_responder(messages, schema)

    return responder


def _run(cfg, run_dir: Path) -> tuple[Path, float]:
    from data_agent.loop import specialize
    from data_agent.ui import Reporter

    t0 = time.time()
    out = specialize(cfg, run_dir=run_dir, reporter=Reporter())
    return out, time.time() - t0


def _summary(name: str, run: Path, seconds: float) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    fams = sorted({r["card"] for r in m.get("trajectory", []) if r["card"]})
    t, g = m["test"], m["test"]["gain"]
    teacher = m["costs"].get("teacher_total") or {}
    eng = m["costs"].get("engineer") or {}
    return {"arm": name, "families": fams,
            "val": [(i["iteration"], i["val"]["accuracy"], i["val"].get("accuracy_ci95")) for i in m["iterations"]],
            "test_base": t["base"]["accuracy"], "test_final": t["final"]["accuracy"], "n": t["n"],
            "gain": g["absolute_gain"], "gain_ci": g["absolute_gain_ci95"],
            "cost": {"teacher_requests": teacher.get("requests", 0), "teacher_tokens": teacher.get("tokens", 0),
                     "teacher_dollars": teacher.get("dollars", 0.0), "engineer_calls": eng.get("calls", 0),
                     "engineer_tokens": eng.get("tokens", 0), "engineer_dollars": eng.get("dollars", 0.0)},
            "seconds": round(seconds, 1), "run": str(run)}


def _print(rows: list[dict], title: str) -> None:
    print(f"\n## {title}\n")
    print("| arm | method families tried | validation accuracy per iteration [95% CI] | test base -> final (n) | "
          "gain [95% CI] | teacher requests / tokens / $ | engineer calls / tokens / $ | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        val = "; ".join(f"{i}: {a:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" for i, a, ci in r["val"])
        c = r["cost"]
        print(f"| {r['arm']} | {len(r['families'])} ({', '.join(r['families']) or 'none'}) | {val} | "
              f"{r['test_base']:.3f} -> {r['test_final']:.3f} ({r['n']}) | {r['gain']:+.3f} "
              f"[{r['gain_ci'][0]:+.3f}, {r['gain_ci'][1]:+.3f}] | {c['teacher_requests']} / {c['teacher_tokens']} / "
              f"{c['teacher_dollars']:.4f} | {c['engineer_calls']} / {c['engineer_tokens']} / "
              f"{c['engineer_dollars']:.4f} | {r['seconds']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="smoke", help="smoke (minutes), cpu or gpu")
    ap.add_argument("--domain", default="science")
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("-n", "--n-records", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=("control", "scaffold"), default=None)
    ap.add_argument("--engineer-model", default=None, help="a model spec for the scaffold arms (else scripted)")
    ap.add_argument("--work-dir", type=Path, default=None)
    a = ap.parse_args()

    from data_agent.config import load_config

    work = a.work_dir or Path(tempfile.mkdtemp(prefix="compare-engineers-"))
    os.environ.setdefault("DATA_AGENT_HOME", str(work / "home"))

    def config(**kw):
        cfg = load_config(a.preset, overrides={"domain": a.domain, "iterations": a.iterations, "seed": a.seed,
                                                **({"n_records": a.n_records} if a.n_records else {})})
        for k, v in kw.items():
            setattr(cfg, k, v)
        cfg.teachers.cache_dir = str(work / "cache")
        return cfg

    print(f"{a.domain}, preset {a.preset}, {a.iterations} iterations, seed {a.seed}; runs in {work}", flush=True)
    if a.only in (None, "control"):
        rows = []
        for arm in ("heuristic", "uniform"):
            run, sec = _run(config(engineer=arm), work / f"control-{arm}")
            rows.append(_summary(arm, run, sec))
        _print(rows, "the heuristic engineer vs the uniform baseline (same records, teacher and seed)")
    if a.only in (None, "scaffold"):
        rows = []
        for scaffold in ("adapt", "open"):
            if a.engineer_model:
                run, sec = _run(config(engineer=a.engineer_model, scaffold=scaffold), work / f"scaffold-{scaffold}")
            else:
                from data_agent.testing import ProviderEmulator

                key = "sk-" + "emulated-engineer-comparison"  # fake, for the emulator
                os.environ["OPENAI_API_KEY"] = key
                with ProviderEmulator(api_key=key, responder=_scripted(scaffold)) as emu:
                    run, sec = _run(config(engineer=f"openai-compatible:{emu.base_url_openai}@scripted",
                                           scaffold=scaffold), work / f"scaffold-{scaffold}")
            rows.append(_summary(f"--scaffold {scaffold}", run, sec))
        how = a.engineer_model or "scripted replies from the loopback emulator (the wiring, not a model)"
        _print(rows, f"--scaffold adapt vs open, engineer: {how}")


if __name__ == "__main__":
    main()
