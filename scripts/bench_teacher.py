#!/usr/bin/env python
"""Benchmark the teacher runner against the local provider emulator.

Prints three numbers, all measured here, on 127.0.0.1 only:

1. throughput of our ``TeacherRunner`` + ``OpenAIChatTeacher`` against
   ``bespokelabs-curator`` (``curator.LLM(backend="openai")``) on the same
   emulator, ``--n`` requests at a fixed ``--latency``, same concurrency
   (ours also with every response committed to a SQLite cache; the clients'
   runs alternate, best of ``--repeat`` each; client and emulator CPU time per
   request are printed so that a saturated server would show);
2. the share of a 600 requests/min cap our rate limiter actually uses (calls
   are paced evenly, so the busiest window of any length stays within the cap);
3. the speed-up of a fully cached rerun (SQLite response cache).

The emulator runs as its own process (``python -m data_agent.testing.emulator``)
so that neither client shares its interpreter with the server. Curator runs
in its OWN virtualenv (``--curator-venv``, created with ``python -m venv`` and
``pip install bespokelabs-curator`` when missing), as a subprocess. Offline
adjustments for curator, applied in that subprocess only: telemetry off,
litellm's bundled cost map, curator's cache off, and ``tiktoken.get_encoding``
replaced by a length/4 estimate (tiktoken would download its BPE file; curator
uses the count only for its tokens/min limiter, set far above the load). If
curator cannot be installed or run, the script says so and still prints our
numbers.

Usage::

    python scripts/bench_teacher.py                 # 2000 requests, 50 ms latency
    python scripts/bench_teacher.py --skip-curator --n 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

from data_agent.generators.teachers.base import SamplingParams, TeacherRequest, TeacherResponse
from data_agent.generators.engine.cache import ResponseCache
from data_agent.generators.teachers.openai_backend import OpenAIChatTeacher, OpenAIOptions
from data_agent.generators.teachers.prices import ModelPrice, PriceTable
from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner
from data_agent.testing.emulator import DEFAULT_API_KEY

MODEL = "emu-model"
PROMPT = "Write problem #{i} about kinematics."
MAX_TOKENS = 256
TEMPERATURE = 0.7


# --------------------------------------------------------------------------- emulator


class EmulatorProcess:
    """``python -m data_agent.testing.emulator`` on a free loopback port."""

    def __init__(self, latency: float):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "data_agent.testing.emulator", "--port", "0", "--latency", str(latency)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.base_url = ""
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("OPENAI_BASE_URL="):
                self.base_url = line.split("=", 1)[1].strip()
                break
            if not line and self.proc.poll() is not None:
                break
        if not self.base_url:
            self.close()
            raise RuntimeError("the emulator did not start")

    def stats(self) -> dict[str, Any]:
        root = self.base_url.rsplit("/v1", 1)[0]
        with urllib.request.urlopen(f"{root}/_emulator/stats", timeout=10) as r:
            return json.loads(r.read())

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (0 where /proc is missing)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def chat_calls(self) -> int:
        return int(self.stats()["calls"].get("openai.chat", 0))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --------------------------------------------------------------------------- ours


def make_requests(n: int, tag: str) -> list[TeacherRequest]:
    return [TeacherRequest(messages=({"role": "user", "content": f"[{tag}] " + PROMPT.format(i=i)},),
                           params=SamplingParams(temperature=TEMPERATURE, max_tokens=MAX_TOKENS)) for i in range(n)]


class StampedTeacher(OpenAIChatTeacher):
    """Records the start time of every call (for the rate-limit measurement)."""

    starts: list[float]

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        self.starts.append(time.monotonic())
        return await super().generate_one(request)


def run_ours(base_url: str, requests: list[TeacherRequest], config: RunnerConfig,
             cache: ResponseCache | None = None, stamped: bool = False) -> tuple[float, list[TeacherResponse], Any]:
    """Seconds for ``runner.run(requests)``, the responses and the teacher."""
    prices = PriceTable({"openai:*": ModelPrice(0.0, 0.0)})  # the emulator's model is free

    async def go() -> tuple[float, list[TeacherResponse], Any]:
        cls = StampedTeacher if stamped else OpenAIChatTeacher
        teacher = cls(MODEL, base_url=base_url, api_key=DEFAULT_API_KEY, options=OpenAIOptions(timeout=60.0))
        teacher.starts = []
        runner = TeacherRunner(teacher, config, cache=cache, prices=prices)
        try:
            t0 = time.perf_counter()
            out = await runner.run(requests)
            return time.perf_counter() - t0, out, teacher
        finally:
            await teacher.aclose()

    return asyncio.run(go())


# --------------------------------------------------------------------------- curator

CURATOR_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    import tiktoken

    class _ApproxEncoding:  # offline stand-in: tiktoken downloads its BPE file on first use
        name = "approx-len/4"
        def encode(self, text, **kw):
            return [0] * max(1, len(text) // 4)

    tiktoken.get_encoding = lambda name: _ApproxEncoding()
    t0 = time.perf_counter()
    from bespokelabs import curator
    import_s = time.perf_counter() - t0
    base_url, n, concurrency, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    llm = curator.LLM(model_name=%(model)r, backend="openai",
                      generation_params={"temperature": %(temperature)r, "max_tokens": %(max_tokens)r},
                      backend_params={"base_url": base_url, "api_key": %(key)r,
                                      "max_requests_per_minute": 1_000_000, "max_tokens_per_minute": 1_000_000_000,
                                      "max_concurrent_requests": concurrency, "max_retries": 3,
                                      "require_all_responses": False})
    prompts = ["[" + tag + "] " + %(prompt)r.format(i=i) for i in range(n)]
    t0, c0 = time.perf_counter(), time.process_time()
    res = llm(prompts)
    run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rows = res.dataset if hasattr(res, "dataset") else res
    ok = sum(1 for r in rows["response"] if r)
    print("CURATOR_RESULT " + json.dumps({"seconds": run_s, "cpu_seconds": cpu_s, "ok": ok, "import_seconds": import_s}), flush=True)
""") % {"model": MODEL, "temperature": TEMPERATURE, "max_tokens": MAX_TOKENS, "key": DEFAULT_API_KEY,
        "prompt": PROMPT}


def ensure_curator(venv: Path) -> tuple[Path | None, str]:
    """The curator venv's python, installing it when missing; ``(None, why)`` on failure."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import bespokelabs.curator"]
    env = {**os.environ, "TELEMETRY_ENABLED": "false", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    if python.exists() and subprocess.run(check, capture_output=True, env=env, timeout=300).returncode == 0:
        return python, "already installed"
    log = venv.parent / f"{venv.name}-install.log"
    print(f"installing bespokelabs-curator into {venv} (log: {log}) ...", flush=True)
    try:
        with open(log, "w") as f:
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=f, stderr=f)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "bespokelabs-curator"], check=True,
                           stdout=f, stderr=f, timeout=1800)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        return None, f"could not install bespokelabs-curator ({type(e).__name__}; see {log})"
    if subprocess.run(check, capture_output=True, env=env, timeout=300).returncode != 0:
        return None, f"bespokelabs-curator installed but does not import (see {log})"
    return python, "installed now"


def run_curator(python: Path, base_url: str, n: int, concurrency: int, tag: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="curator-bench-") as tmp:
        script = Path(tmp) / "curator_bench.py"
        script.write_text(CURATOR_SCRIPT)
        env = {**os.environ, "TELEMETRY_ENABLED": "false", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
               "CURATOR_DISABLE_CACHE": "true", "CURATOR_CACHE_DIR": str(Path(tmp) / "cache"),
               "CURATOR_DISABLE_RICH_DISPLAY": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
               "HF_DATASETS_CACHE": str(Path(tmp) / "hf"), "OPENAI_API_KEY": DEFAULT_API_KEY}
        env.pop("OPENAI_BASE_URL", None)
        p = subprocess.run([str(python), str(script), base_url, str(n), str(concurrency), tag], capture_output=True,
                           text=True, env=env, timeout=1800)
    for line in p.stdout.splitlines():
        if line.startswith("CURATOR_RESULT "):
            return json.loads(line.split(" ", 1)[1])
    tail = (p.stderr or p.stdout)[-1500:]
    raise RuntimeError(f"curator exited with {p.returncode}:\n{tail}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="requests per throughput run")
    ap.add_argument("--latency", type=float, default=0.05, help="emulator latency per request (s)")
    ap.add_argument("--concurrency", type=int, default=64, help="requests in flight (both clients)")
    ap.add_argument("--repeat", type=int, default=2, help="throughput runs per client (best is kept)")
    ap.add_argument("--rpm-n", type=int, default=200, help="requests of the rate-limit run")
    ap.add_argument("--rpm-window", type=float, default=2.0,
                    help="window (s) in which the rate-limit run's busiest stretch of call starts is counted")
    ap.add_argument("--curator-venv", type=Path, default=Path(tempfile.gettempdir()) / "curator-venv")
    ap.add_argument("--skip-curator", action="store_true")
    args = ap.parse_args(argv)

    results: dict[str, Any] = {"n": args.n, "latency_s": args.latency, "concurrency": args.concurrency}
    emu = EmulatorProcess(args.latency)
    try:
        print(f"emulator: {emu.base_url} (own process), latency {args.latency * 1000:.0f} ms, "
              f"{args.n} requests, concurrency {args.concurrency}", flush=True)
        cfg = RunnerConfig(max_concurrency=args.concurrency, use_cache=False)
        cached_cfg = RunnerConfig(max_concurrency=args.concurrency, use_cache=True)
        transport = OpenAIChatTeacher(MODEL, base_url=emu.base_url, api_key=DEFAULT_API_KEY).transport
        print(f"  ours:    TeacherRunner + OpenAIChatTeacher (AsyncOpenAI, {transport} transport), "
              f"max_concurrency={args.concurrency}, no rate limit, max_retries={cfg.max_retries}, "
              f"timeout={cfg.timeout:g} s, every reply JSON-parsed and checked; 'ours' without a cache, "
              f"'ours+cache' also commits every response to a fresh SQLite cache", flush=True)
        if not args.skip_curator:
            print(f"  curator: curator.LLM(backend='openai'), max_concurrent_requests={args.concurrency}, "
                  f"max_requests_per_minute=1e6, max_tokens_per_minute=1e9 (limits far above the load), "
                  f"max_retries=3, curator cache off", flush=True)
        ideal = args.n / args.concurrency * args.latency
        print(f"  (latency-bound ideal at this concurrency: {ideal:.2f} s, {args.n / ideal:.0f} req/s; "
              f"runs of the clients alternate, best of {args.repeat} kept)", flush=True)

        def one_ours(k: int, cached: bool) -> float:
            label = "ours+cache" if cached else "ours"
            before, emu_cpu0, cpu0 = emu.chat_calls(), emu.cpu_seconds(), time.process_time()
            with tempfile.TemporaryDirectory(prefix="bench-tp-") as tmp:
                cache = ResponseCache(Path(tmp) / "teacher.sqlite") if cached else None
                secs, out, _ = run_ours(emu.base_url, make_requests(args.n, f"{label}{k}"),
                                        cached_cfg if cached else cfg, cache=cache)
                cpu = time.process_time() - cpu0
                if cache is not None:
                    stored = len(cache)
                    cache.close()
                    assert stored == args.n, (stored, args.n)
            ok = sum(r.ok for r in out)
            assert ok == args.n and emu.chat_calls() - before == args.n, (ok, emu.chat_calls() - before)
            print(f"  {label:<10} run {k + 1}: {secs:6.2f} s  {args.n / secs:7.1f} req/s  ({ok}/{args.n} ok; "
                  f"client CPU {cpu / args.n * 1e6:4.0f} us/request, emulator CPU "
                  f"{(emu.cpu_seconds() - emu_cpu0) / args.n * 1e6:4.0f} us/request)", flush=True)
            return secs

        python: Path | None = None
        curator_note = "skipped (--skip-curator)"
        if not args.skip_curator:
            python, why = ensure_curator(args.curator_venv)
            curator_note = f"NOT RUN: {why}" if python is None else f"bespokelabs-curator in {args.curator_venv} ({why})"
        ours: list[float] = []
        ours_cached: list[float] = []
        cur: list[float] = []
        for k in range(args.repeat):
            # 1. throughput: ours, ours with the cache, curator, in turn (a load
            # that comes and goes on the machine hits every client alike)
            ours.append(one_ours(k, cached=False))
            ours_cached.append(one_ours(k, cached=True))
            if python is not None:
                try:
                    before, emu_cpu0 = emu.chat_calls(), emu.cpu_seconds()
                    r = run_curator(python, emu.base_url, args.n, args.concurrency, f"curator{k}")
                    calls = emu.chat_calls() - before
                    cur.append(r["seconds"])
                    print(f"  {'curator':<10} run {k + 1}: {r['seconds']:6.2f} s  {args.n / r['seconds']:7.1f} req/s  "
                          f"({r['ok']}/{args.n} ok; client CPU {r['cpu_seconds'] / args.n * 1e6:4.0f} us/request, "
                          f"emulator CPU {(emu.cpu_seconds() - emu_cpu0) / args.n * 1e6:4.0f} us/request; "
                          f"{calls} chat calls at the emulator; import {r['import_seconds']:.1f} s not counted)",
                          flush=True)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    curator_note = f"NOT RUN: curator failed offline: {e}"
                    python, cur = None, []
        best_ours, best_cached = min(ours), min(ours_cached)
        results["ours_seconds"] = round(best_ours, 3)
        results["ours_rps"] = round(args.n / best_ours, 1)
        results["ours_cache_seconds"] = round(best_cached, 3)
        results["ours_cache_rps"] = round(args.n / best_cached, 1)
        results["transport"] = transport
        if cur:
            results["curator_seconds"] = round(min(cur), 3)
            results["curator_rps"] = round(args.n / min(cur), 1)
            results["throughput_ratio_ours_over_curator"] = round(min(cur) / best_ours, 2)
            results["throughput_ratio_ours_cache_over_curator"] = round(min(cur) / best_cached, 2)
        results["curator"] = curator_note

        # 2. share of a 600 requests/min cap
        per_window = 600 * args.rpm_window / 60.0
        rcfg = RunnerConfig(max_concurrency=args.concurrency, requests_per_minute=600, use_cache=False)
        secs, out, teacher = run_ours(emu.base_url, make_requests(args.rpm_n, "rpm"), rcfg, stamped=True)
        starts = sorted(teacher.starts)
        span = starts[-1] - starts[0]
        ideal_span = (args.rpm_n - 1) * 60.0 / 600  # one start every 100 ms at 600/min
        busiest = max(sum(1 for s in starts if t <= s < t + args.rpm_window) for t in starts)
        busiest_1s = max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts)
        results["rate_cap_share"] = round(ideal_span / span, 4) if span > 0 else None
        results["rate_cap_busiest_window"] = busiest
        results["rate_cap_busiest_second"] = busiest_1s
        results["rate_cap_achieved_rpm"] = round((args.rpm_n - 1) / span * 60, 1) if span > 0 else None

        # 3. fully cached rerun
        with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
            cache = ResponseCache(Path(tmp) / "teacher.sqlite")
            reqs = make_requests(args.n, "cache")
            ccfg = RunnerConfig(max_concurrency=args.concurrency)
            cold, out1, _ = run_ours(emu.base_url, reqs, ccfg, cache=cache)
            before = emu.chat_calls()
            warm, out2, _ = run_ours(emu.base_url, reqs, ccfg, cache=cache)
            assert emu.chat_calls() == before and all(r.cached for r in out2), "the cached rerun called the server"
            assert [r.text for r in out1] == [r.text for r in out2]
            cache.close()
        results["cache_cold_seconds"] = round(cold, 3)
        results["cache_warm_seconds"] = round(warm, 3)
        results["cached_rerun_speedup"] = round(cold / warm, 1)
    finally:
        emu.close()

    print()
    print(f"throughput, {args.n} requests at {args.latency * 1000:.0f} ms latency, concurrency {args.concurrency}:")
    print(f"  ours       {results['ours_seconds']:.2f} s = {results['ours_rps']:.0f} req/s")
    print(f"  ours+cache {results['ours_cache_seconds']:.2f} s = {results['ours_cache_rps']:.0f} req/s")
    if "curator_seconds" in results:
        print(f"  curator    {results['curator_seconds']:.2f} s = {results['curator_rps']:.0f} req/s")
        print(f"  ratio ours/curator (throughput): {results['throughput_ratio_ours_over_curator']:.2f}x "
              f"({results['throughput_ratio_ours_cache_over_curator']:.2f}x with every response cached)")
    else:
        print(f"  curator: {results['curator']}")
    print(f"rate limit: {args.rpm_n} requests under a 600 requests/min cap (--rpm 600):")
    print(f"  share of the cap used: {results['rate_cap_share']:.1%} (calls paced at "
          f"{results['rate_cap_achieved_rpm']:.0f}/min from first to last start; busiest {args.rpm_window:g} s "
          f"window {busiest} observed call starts vs {per_window:g} allowed; busiest second {busiest_1s} vs 10)")
    print(f"cached rerun of {args.n} requests: {cold:.2f} s cold -> {warm:.3f} s warm = "
          f"{results['cached_rerun_speedup']:.0f}x faster, 0 server calls")
    print("RESULTS " + json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
