#!/usr/bin/env python
"""Kill a run again and again under provider faults; count what was lost, duplicated or billed twice.

A ``--preset smoke`` run uses an LLM teacher served by the local provider
emulator (:class:`data_agent.testing.emulator.ProviderEmulator`, in this
process, on a free 127.0.0.1 port) that answers ``--rate-429``, ``--rate-5xx``,
``--rate-malformed`` and ``--rate-truncated`` of its generation requests (20 %
each by default, drawn from a seeded RNG) with a 429, a 500, a reply that is
not the JSON asked for, and a reply cut short at ``max_tokens``; every request
waits ``--latency`` seconds, so calls are in flight when the run is killed.

First an unkilled reference run under the same faults gives the run's
duration ``T`` and when each step of ``state.json`` was done. The killed run
(``data-agent specialize``, then ``data-agent resume RUN_DIR``, each a
subprocess in its own process group) is SIGKILLed ``--kills`` times at seeded
random points of the run, drawn uniformly in ``[--min-delay, T]`` and sorted.
A point ``t`` is located by the reference run's progress: the last step done
by ``t`` there, and ``t`` minus the time it was done. The process running is
killed that many seconds after it completes that step, or after its start if
the step was done before it started (or no step was done by ``t``).

Generation, the part of the run that calls the teacher, is a small share of
a smoke run's time, so few such kills find calls in flight. With
``--during-generation`` the kill points are instead generation calls: distinct
numbers drawn uniformly in ``[1, 0.9 C]``, ``C`` the reference run's
generation calls, and the process running is killed as the emulator receives
that call of the killed run (counted over all its processes: a resume calls
only for what is not cached, so the count moves forward only; a process is
killed at its own first call at the earliest).

After a kill the script waits until the emulator has finished the killed
process's open requests (which it still bills, as a provider would), copies
the pools (to ``WORK_DIR/pools-after-kill/``), and resumes. After the last
kill the resume runs to the end.

It prints:

* **kills**: the SIGKILLs sent (a process that ends before its kill is noted);
* **records lost**: ids present in a pool (``RUN_DIR/iter-NN/pool.jsonl``,
  every record, accepted or rejected) right after a kill but missing from
  that pool at the end;
* **records duplicated**: ids occurring more than once over all pools, and
  inputs (normalised as the dedup validator does) accepted more than once in
  one pool. Rejected records may repeat an input (the dedup validator rejects
  them), and two iterations may accept the same input (dedup is per
  iteration; the emulator answers prompts with the same last user message
  alike), so neither counts;
* **calls billed twice**: request content keys
  (:func:`~data_agent.testing.emulator.request_content_key`: the messages and
  the schema) with more than one *usable* billed completion at the emulator,
  usable meaning a 200 reply neither malformed nor truncated. Garbled replies
  are billed too, but re-asking them is the point of a re-ask, so they are not
  counted. A second usable completion in a later process than the first is
  charged to the kill that ended the first one's process; one within a single
  process would be a fault of the cache (printed separately);
* **in flight per kill**: generation requests open at the emulator (received,
  not yet answered) when the SIGKILL was sent; **cut per kill**: the calls the
  killed process had sent and not yet read an answer to, by its own meter file
  (``in_flight``, saved as each call is sent and as its answer is read: this
  also counts answers already on their way back, which the emulator no longer
  counts as open); next to them the calls billed twice because of that kill:
  only a cut call can be billed twice (the emulator, like a provider, bills a
  reply its client did not live to read; the resume asks for it again), so a
  kill costs at most ``--concurrency`` calls, and at most one with
  ``--concurrency 1``;
* the wall time of the reference run and of the killed run (kills, waits and
  resumes included), the teacher's own count of its calls
  (``RUN_DIR/teacher/meter.json``, which counts a call when it is sent, so the
  calls cut by a kill are in it as ``interrupted``) next to the emulator's, and whether the run
  finished (``state.json`` status ``done`` and ``metrics.json`` present).

Each run gets a fresh ``DATA_AGENT_HOME`` (so a fresh teacher response cache
that its resumes share, as a user's would). Exit status: 1 if records were lost
or duplicated, 2 if the run did not finish, else 0.

Usage::

    python scripts/fault_injection.py                 # 10 kills, seed 0
    python scripts/fault_injection.py --during-generation   # 10 kills at random teacher calls
    python scripts/fault_injection.py --kills 3 --seed 7 --work-dir /tmp/fi
    python scripts/fault_injection.py --during-generation --concurrency 1   # a kill cuts at most one call
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_agent.testing.emulator import FaultConfig, ProviderEmulator, request_content_key  # noqa: E402
from data_agent.validators import normalise_text  # noqa: E402

KEY = "fault-injection-key"
_GENERATION_PATHS = ("/v1/chat/completions", "/v1/messages")


class CountingEmulator(ProviderEmulator):
    """The emulator, also counting its open generation requests and logging
    each billed completion as ``(time, key, usable)``."""

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.open_requests = 0
        self.billing: list[tuple[float, str, bool]] = []
        self._count_lock = threading.Lock()

    def start(self) -> "CountingEmulator":
        super().start()
        server = self._server
        if server is not None:  # a killed client resets its idle keep-alive connections: not worth a traceback
            default = server.handle_error

            def handle_error(request: Any, client_address: Any) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    default(request, client_address)

            server.handle_error = handle_error  # type: ignore[method-assign]
        return self

    def _serve(self, h: Any, method: str) -> None:
        gen = method == "POST" and h.path.split("?", 1)[0].rstrip("/") in _GENERATION_PATHS
        if gen:
            with self._count_lock:
                self.open_requests += 1
        try:
            super()._serve(h, method)
        finally:
            if gen:
                with self._count_lock:
                    self.open_requests -= 1

    def _generate(self, norm: list[dict[str, str]], schema: dict[str, Any] | None,
                  max_tokens: int) -> dict[str, Any]:
        g = super()._generate(norm, schema, max_tokens)
        usable = not g["truncated"] and not g["malformed"]
        with self._count_lock:
            self.billing.append((time.monotonic(), request_content_key(norm, schema), usable))
        return g


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "OPENAI_API_KEY": KEY, "HF_HUB_OFFLINE": "1", "DATA_AGENT_HOME": str(home)}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "data_agent.cli", *args], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        out.close()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and any child it started
    except ProcessLookupError:
        pass
    proc.wait()


def _read_pool(path: Path) -> list[dict[str, Any]]:
    recs = []
    if not path.exists():
        return recs
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line, cut off by the next resume
        if isinstance(rec, dict):
            recs.append(rec)
    return recs


def _pools(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return {p.parent.name: _read_pool(p) for p in sorted(run_dir.glob("iter-*/pool.jsonl"))}


def _finished(run_dir: Path) -> bool:
    try:
        status = json.loads((run_dir / "state.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return False
    return status == "done" and (run_dir / "metrics.json").exists()


def _duplicates(pools: dict[str, list[dict[str, Any]]]) -> tuple[list[str], list[str]]:
    """Ids occurring more than once over all pools; normalised inputs accepted
    more than once in one pool (the dedup validator's scope is an iteration)."""
    ids = collections.Counter(r.get("id") for recs in pools.values() for r in recs)
    inputs: collections.Counter[tuple[str, str]] = collections.Counter()
    for name, recs in pools.items():
        inputs.update((name, normalise_text(str(r.get("input", "")))) for r in recs if r.get("accepted"))
    return ([str(i) for i, n in ids.items() if n > 1],
            [f"{name}: {inp[:60]!r}" for (name, inp), n in inputs.items() if n > 1])


def _meter(run_dir: Path, counter: str) -> int | None:
    """One of the run's own teacher counters (``RUN_DIR/teacher/meter.json``, run
    totals): ``calls``, ``interrupted`` (cut by a kill, counted by the next process)
    or ``in_flight`` (sent, answer not yet read, as the killed process left it)."""
    try:
        return int(json.loads((run_dir / "teacher" / "meter.json").read_text())["total"].get(counter, 0))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _faults(a: argparse.Namespace) -> FaultConfig:
    return FaultConfig(rate_429=a.rate_429, rate_5xx=a.rate_5xx, rate_malformed=a.rate_malformed,
                       rate_truncated=a.rate_truncated, retry_after=a.retry_after, latency=a.latency,
                       seed=a.seed)


def _specialize_args(emu: ProviderEmulator, run_dir: Path, a: argparse.Namespace) -> list[str]:
    return ["specialize", "--preset", a.preset, "--teacher", f"openai-compatible:{emu.base_url_openai}@emu-model",
            "--run-dir", str(run_dir)] + (["--concurrency", str(a.concurrency)] if a.concurrency else [])


def _steps(run_dir: Path) -> list[str]:
    try:
        return list(json.loads((run_dir / "state.json").read_text()).get("steps", {}))
    except (OSError, ValueError, AttributeError):
        return []


def reference_run(work: Path, a: argparse.Namespace) -> dict[str, Any]:
    """One unkilled run under the same faults: its duration, when each step
    was done and (as a control) its duplicates and double billing."""
    run_dir = work / "reference-run"
    with CountingEmulator(api_key=KEY, faults=_faults(a)) as emu:
        t0 = time.monotonic()
        proc = _start(_specialize_args(emu, run_dir, a), _env(work / "home-reference"), work / "reference.log")
        step_times: dict[str, float] = {}
        while proc.poll() is None:
            for st in _steps(run_dir):
                step_times.setdefault(st, time.monotonic() - t0)
            if time.monotonic() - t0 > a.process_timeout:
                _kill(proc)
                raise SystemExit(f"the reference run took over {a.process_timeout} s; see {work / 'reference.log'}")
            time.sleep(0.05)
        duration = time.monotonic() - t0
        if proc.returncode != 0 or not _finished(run_dir):
            raise SystemExit(f"the reference run failed (exit {proc.returncode}); see {work / 'reference.log'}")
        usable = collections.Counter(k for _, k, ok in emu.billing if ok)
        dup_ids, dup_inputs = _duplicates(_pools(run_dir))
        return {"duration": duration, "steps": sorted(step_times.items(), key=lambda kv: kv[1]),
                "billed_twice": sum(1 for n in usable.values() if n > 1), "dup_ids": len(dup_ids),
                "dup_inputs": len(dup_inputs), "calls": emu.calls["openai.chat"],
                "faults": dict(emu.faults_served)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=10, help="SIGKILLs to send, one per process (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill delays and of the emulator's faults")
    p.add_argument("--min-delay", type=float, default=2.0,
                   help="earliest kill point, s into the run (default 2); the latest is the reference run's duration")
    p.add_argument("--during-generation", action="store_true",
                   help="kill at random generation calls instead of random times (see above)")
    p.add_argument("--rate-429", type=float, default=0.2, help="fraction of requests answered 429 (default 0.2)")
    p.add_argument("--rate-5xx", type=float, default=0.2, help="fraction answered 500 (default 0.2)")
    p.add_argument("--rate-malformed", type=float, default=0.2,
                   help="fraction of replies that are not the JSON asked for (default 0.2)")
    p.add_argument("--rate-truncated", type=float, default=0.2,
                   help="fraction of replies cut short at max_tokens (default 0.2)")
    p.add_argument("--retry-after", type=float, default=0.2, help="Retry-After of a 429, s (default 0.2)")
    p.add_argument("--latency", type=float, default=0.2,
                   help="seconds each generation request takes (default 0.2): calls in flight at a kill")
    p.add_argument("--preset", default="smoke", help="preset of the run (default smoke)")
    p.add_argument("--concurrency", type=int, default=None,
                   help="teacher requests in flight at once (default: the preset's); a kill can cut that many")
    p.add_argument("--process-timeout", type=float, default=900.0,
                   help="longest a single specialize/resume process may take, s (default 900)")
    p.add_argument("--work-dir", default=None,
                   help="where the runs, homes and logs go (default: a new temporary directory, kept)")
    a = p.parse_args(argv)
    if a.kills < 0 or a.min_delay < 0:
        p.error("--kills and --min-delay must be >= 0")
    if a.concurrency is not None and a.concurrency < 1:
        p.error("--concurrency must be >= 1")

    work = Path(a.work_dir or tempfile.mkdtemp(prefix="fault-injection-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "home", "reference-run", "home-reference", "pools-after-kill"):
        shutil.rmtree(work / sub, ignore_errors=True)
    for name in ("run.log", "reference.log"):
        (work / name).unlink(missing_ok=True)
    print(f"work dir {work}; faults: 429 {a.rate_429:g}, 5xx {a.rate_5xx:g}, malformed {a.rate_malformed:g}, "
          f"truncated {a.rate_truncated:g}, latency {a.latency:g} s; seed {a.seed}", flush=True)

    ref = reference_run(work, a)
    print(f"reference run (no kill): {ref['duration']:.1f} s, {len(ref['steps'])} steps, "
          f"{ref['calls']} generation calls, faults served {ref['faults']}; control: "
          f"{ref['billed_twice']} billed twice, {ref['dup_ids']} duplicated ids, "
          f"{ref['dup_inputs']} duplicated accepted inputs", flush=True)
    print("reference steps done at (s): " + ", ".join(f"{st} {ts:.1f}" for st, ts in ref["steps"]), flush=True)
    rng = random.Random(a.seed)
    if a.during_generation:
        top = max(1, int(0.9 * ref["calls"]))
        calls = list(range(1, top + 1))
        points = sorted(rng.sample(calls, a.kills) if a.kills <= top else rng.choices(calls, k=a.kills))
        plan = [(c, None, 0.0) for c in points]
        print(f"kill points (generation calls of the killed run, of {ref['calls']} in the reference run): "
              + ", ".join(map(str, points)), flush=True)
    else:
        points = sorted(rng.uniform(a.min_delay, max(a.min_delay, ref["duration"])) for _ in range(a.kills))
        plan = []  # (point, anchor step or None, offset)
        for t in points:
            done = [(st, ts) for st, ts in ref["steps"] if ts <= t]
            plan.append((t, done[-1][0], t - done[-1][1]) if done else (t, None, t))
        print("kill points (s into the reference run): " + ", ".join(f"{t:.1f}" for t in points), flush=True)
    run_dir, home = work / "run", work / "home"
    env, log = _env(home), work / "run.log"
    kills: list[dict[str, Any]] = []
    epochs: list[float] = []  # start time of each process
    snapshots: list[dict[str, set[str]]] = []
    ended_early: list[str] = []
    with CountingEmulator(api_key=KEY, faults=_faults(a)) as emu:
        t0 = time.monotonic()
        final_rc = None
        for i in range(a.kills + 1):
            last = i == a.kills
            args = _specialize_args(emu, run_dir, a) if i == 0 else ["resume", str(run_dir)]
            epochs.append(time.monotonic())
            proc = _start(args, env, log)
            started = time.monotonic()
            hard = started + a.process_timeout
            at = None
            anchor, offset = (None, 0.0) if last else plan[i][1:]
            calls0 = emu.calls["openai.chat"]
            if not last and not a.during_generation and (anchor is None or anchor in _steps(run_dir)):
                at = started + offset
            while proc.poll() is None and time.monotonic() < (at if at is not None else hard):
                if at is None and not last:
                    if a.during_generation:
                        if emu.calls["openai.chat"] >= max(plan[i][0], calls0 + 1):  # one call of its own
                            break
                    elif anchor in _steps(run_dir):  # this process did the anchor step
                        at = time.monotonic() + offset
                time.sleep(0.002 if a.during_generation else 0.01)
            if proc.poll() is None and not last and time.monotonic() >= hard:
                at = None  # never reached its kill point: treat as the timeout below
                last = True
            if proc.poll() is not None:
                if not last:
                    ended_early.append(f"process {i + 1} ({args[0]}) ended (exit {proc.returncode}) before its kill")
                final_rc = proc.returncode
                if _finished(run_dir) or proc.returncode != 0:
                    break
                continue
            if last:
                _kill(proc)
                ended_early.append(f"process {i + 1} ({args[0]}) ran past --process-timeout {a.process_timeout:g} s")
                break
            t_kill = time.monotonic()
            in_flight = emu.open_requests
            _kill(proc)
            drain = time.monotonic() + 30
            while emu.open_requests and time.monotonic() < drain:  # the emulator finishes (and bills) them
                time.sleep(0.01)
            pools = _pools(run_dir)
            snapshots.append({name: {r.get("id") for r in recs} for name, recs in pools.items()})
            dest = work / "pools-after-kill" / f"kill-{len(kills) + 1:02d}"
            for f in run_dir.glob("iter-*/pool.jsonl"):
                (dest / f.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dest / f.parent.name / f.name)
            steps = _steps(run_dir)
            kills.append({"after": t_kill - epochs[-1], "point": plan[i][0], "in_flight": in_flight,
                          "cut": _meter(run_dir, "in_flight") or 0,
                          "records": sum(len(r) for r in pools.values()),
                          "after_step": steps[-1] if steps else "(none)"})
        wall = time.monotonic() - t0
        billing = list(emu.billing)
        gen_calls = emu.calls["openai.chat"]
        faults_served = dict(emu.faults_served)

    # ---- records lost / duplicated
    final = _pools(run_dir)
    final_ids = {name: {r.get("id") for r in recs} for name, recs in final.items()}
    lost = sorted({(name, rid) for snap in snapshots for name, ids in snap.items()
                   for rid in ids - final_ids.get(name, set())})
    dup_ids, dup_inputs = _duplicates(final)

    # ---- billed twice: usable completions of one content key in more than one process
    def epoch_of(t: float) -> int:
        return sum(1 for s in epochs if s <= t) - 1

    per_key: dict[str, list[int]] = collections.defaultdict(list)
    for t, key, usable in billing:
        if usable:
            per_key[key].append(epoch_of(t))
    per_kill = collections.Counter()
    within_process = 0
    for eps in per_key.values():
        for prev, nxt in zip(eps, eps[1:]):
            if nxt > prev:
                per_kill[prev] += 1  # the answer billed in process `prev` died with it (kill number prev + 1)
            else:
                within_process += 1
    billed_twice_keys = sum(1 for eps in per_key.values() if len(eps) > 1)
    garbled = sum(1 for _, _, usable in billing if not usable)
    finished = _finished(run_dir)

    # ---- report
    print(f"\nkills: {len(kills)} SIGKILLs sent (asked for {a.kills})")
    for line in ended_early:
        print(f"  note: {line}")
    print(f"  kill  {'at call' if a.during_generation else 'at (s)':>7}  after(s)  last step done        records  "
          "in flight  cut  billed twice")
    for n, k in enumerate(kills):
        point = f"{k['point']:.0f}" if a.during_generation else f"{k['point']:.1f}"
        print(f"  {n + 1:>4}  {point:>7}  {k['after']:>8.1f}  {k['after_step']:<20}  {k['records']:>7}  "
              f"{k['in_flight']:>9}  {k['cut']:>3}  {per_kill.get(n, 0):>12}")
    print(f"records lost: {len(lost)} (ids in a pool right after a kill, missing from it at the end)"
          + (": " + ", ".join(f"{n}/{r}" for n, r in lost[:10]) if lost else ""))
    print(f"records duplicated: {len(dup_ids)} ids occurring twice, {len(dup_inputs)} inputs accepted twice in "
          f"one pool, over {sum(len(r) for r in final.values())} records in {len(final)} pools"
          + (": " + ", ".join(map(str, (dup_ids + dup_inputs)[:10])) if dup_ids or dup_inputs else ""))
    print(f"calls billed twice: {billed_twice_keys} request contents with more than one usable billed "
          f"completion ({sum(per_kill.values())} after a kill, {within_process} within one process); counted at "
          f"the emulator over {len(billing)} billed completions, not counting the {garbled} malformed or "
          f"truncated ones (their re-asks are expected)")
    total_in_flight = sum(k["in_flight"] for k in kills)
    over = [n + 1 for n, k in enumerate(kills) if per_kill.get(n, 0) > k["cut"]]
    print(f"in flight per kill (at the emulator): {', '.join(str(k['in_flight']) for k in kills) or '-'} "
          f"(total {total_in_flight}); cut per kill (sent by the client, answer not read, by its meter): "
          f"{', '.join(str(k['cut']) for k in kills) or '-'} (total {sum(k['cut'] for k in kills)}, at most "
          f"--concurrency each); billed twice per kill: "
          f"{', '.join(str(per_kill.get(n, 0)) for n in range(len(kills))) or '-'} "
          f"(at most {max((per_kill.get(n, 0) for n in range(len(kills))), default=0)} per kill); "
          + ("every call billed twice was cut by its kill" if not over and not within_process
             else f"MORE billed twice than cut at kill(s) {over}" if over
             else "some calls were billed twice within one process"))
    meter, interrupted = _meter(run_dir, "calls"), _meter(run_dir, "interrupted")
    print(f"generation calls: {gen_calls} at the emulator, {meter} in the run's teacher meter ({interrupted} of "
          f"them counted as interrupted: in flight at a kill); faults served {faults_served}")
    print(f"wall time: {wall:.1f} s killed run (kills, waits and resumes included)"
          + f", {ref['duration']:.1f} s reference run")
    print(f"run finished: {'yes' if finished else 'no'} (state.json status done and metrics.json present; last "
          f"exit status {final_rc}); logs in {work}")
    if lost or dup_ids or dup_inputs:
        return 1
    return 0 if finished else 2


if __name__ == "__main__":
    raise SystemExit(main())
