"""The teacher engine: model specs, the vLLM / transformers backends, the LLM
session, and the runner under faults and SIGKILL (all on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from data_agent.errors import DataAgentError
from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.generators.teachers.base import SamplingParams, TeacherRequest
from data_agent.generators.generate import parse_problem_reply
from data_agent.tasks.boxed_numeric import BoxedNumeric
from data_agent.generators.teachers.openai_backend import OpenAIChatTeacher, OpenAIOptions
from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner
from data_agent.generators.teachers.specs import SpecError, build_teacher, parse_spec, require_key
from data_agent.testing import FaultConfig, ProviderEmulator
from data_agent.testing.emulator import default_responder, request_content_key

KEY = "sk-" + "test-SECRET-XYZ"  # fake
N_FAULT = 2000

pytestmark = pytest.mark.timeout(180)

BOXED = BoxedNumeric()


# --------------------------------------------------------------------------- specs


@pytest.mark.parametrize("spec, kind, model, base_url", [
    ("openai:gpt-4.1-mini", "openai", "gpt-4.1-mini", None),
    ("openai-batch:gpt-4.1-mini", "openai-batch", "gpt-4.1-mini", None),
    ("anthropic:claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5", None),
    ("anthropic-batch:claude-sonnet-4-5", "anthropic-batch", "claude-sonnet-4-5", None),
    ("openai-compatible:http://127.0.0.1:8000/v1@my-model", "openai-compatible", "my-model",
     "http://127.0.0.1:8000/v1"),
    ("vllm:/models/qwen", "vllm", "/models/qwen", None),
    ("hf:/path/or/name", "hf", "/path/or/name", None),
    ("hf:smollm2-135m", "hf", "smollm2-135m", None),
    ("symbolic", "symbolic", "", None),
])
def test_parse_spec(spec: str, kind: str, model: str, base_url: str | None) -> None:
    s = parse_spec(spec)
    assert (s.kind, s.model, s.base_url, str(s)) == (kind, model, base_url, spec)
    assert s.is_batch == kind.endswith("-batch")


@pytest.mark.parametrize("bad", ["gpt-4", "openai", "openai:", "azure:gpt-4", "openai-compatible:my-model",
                                 "openai-compatible:127.0.0.1:8000@m", "openai-compatible:http://h/v1@", ""])
def test_bad_spec_lists_the_forms(bad: str) -> None:
    with pytest.raises(SpecError) as e:
        parse_spec(bad)
    msg = str(e.value)
    assert "\n" not in msg
    if bad in ("gpt-4", "openai", "azure:gpt-4", ""):
        assert "openai-compatible:<base_url>@<model>" in msg and "hf:" in msg and "symbolic" in msg


@pytest.mark.parametrize("spec, env", [("openai:gpt-4.1-mini", "OPENAI_API_KEY"),
                                       ("openai-batch:gpt-4.1-mini", "OPENAI_API_KEY"),
                                       ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
                                       ("anthropic-batch:claude-sonnet-4-5", "ANTHROPIC_API_KEY")])
def test_missing_key_names_the_variable(spec: str, env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(DataAgentError) as e:
        build_teacher(spec, state_dir=tmp_path)
    assert env in str(e.value) and "\n" not in str(e.value)


def test_keys_come_from_the_environment_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    from data_agent.generators.teachers.anthropic_backend import AnthropicBatchTeacher, AnthropicTeacher
    from data_agent.generators.teachers.openai_backend import OpenAIBatchTeacher

    assert isinstance(build_teacher("openai:gpt-4.1-mini"), OpenAIChatTeacher)
    assert isinstance(build_teacher("anthropic:claude-sonnet-4-5"), AnthropicTeacher)
    ob = build_teacher("openai-batch:gpt-4.1-mini", state_dir=tmp_path)
    ab = build_teacher("anthropic-batch:claude-sonnet-4-5", state_dir=tmp_path)
    assert isinstance(ob, OpenAIBatchTeacher) and isinstance(ab, AnthropicBatchTeacher)
    assert ob.batch_discount == 0.5 and ob.state.path.parent == tmp_path
    t = build_teacher("openai-compatible:http://127.0.0.1:9/v1@m")
    assert t.base_url == "http://127.0.0.1:9/v1" and t.model == "m" and KEY not in repr(t)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert require_key(parse_spec("openai-compatible:http://127.0.0.1:9/v1@m")) == "EMPTY"
    assert require_key(parse_spec("hf:tiny-llama")) is None


# --------------------------------------------------------------------------- vLLM


def _fake_sampling(structured: bool) -> SimpleNamespace:
    ns = SimpleNamespace(SamplingParams=lambda **kw: ("SamplingParams", kw))
    if structured:
        ns.StructuredOutputsParams = lambda **kw: ("StructuredOutputsParams", kw)
    else:
        ns.GuidedDecodingParams = lambda **kw: ("GuidedDecodingParams", kw)
    return ns


def test_vllm_request_mapping() -> None:
    from data_agent.generators.teachers.vllm_backend import make_sampling_params, vllm_request_args

    req = TeacherRequest(messages=({"role": "system", "content": "s"}, {"role": "user", "content": "u"}),
                         params=SamplingParams(temperature=0.3, max_tokens=77, top_p=0.9, seed=5, stop=("END",)),
                         json_schema=PROBLEM_SCHEMA)
    messages, kw = vllm_request_args(req)
    assert messages == [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert kw == {"temperature": 0.3, "top_p": 0.9, "max_tokens": 77, "seed": 5, "stop": ["END"],
                  "structured_outputs": {"json": PROBLEM_SCHEMA}}
    _, sp = make_sampling_params(kw, _fake_sampling(True))
    assert sp["structured_outputs"] == ("StructuredOutputsParams", {"json": PROBLEM_SCHEMA})
    _, sp = make_sampling_params(kw, _fake_sampling(False))  # vLLM before structured_outputs
    assert sp["guided_decoding"] == ("GuidedDecodingParams", {"json": PROBLEM_SCHEMA})
    assert "structured_outputs" not in sp and sp["max_tokens"] == 77
    _, plain = vllm_request_args(TeacherRequest(messages=({"role": "user", "content": "u"},),
                                                params=SamplingParams(temperature=0.0)))
    assert "structured_outputs" not in plain and "seed" not in plain and "stop" not in plain


def test_vllm_teacher_through_the_runner_with_a_stand_in_engine() -> None:
    from data_agent.generators.teachers.vllm_backend import VLLMTeacher

    good = json.dumps({"problem": "A car moves 10 m in 2 s.", "unit": "m/s",
                       "solution": "v = 10/2. The answer is therefore \\boxed{5.000}.", "answer": 5.0})

    class Engine:
        def __init__(self) -> None:
            self.calls: list[tuple[list[Any], list[Any]]] = []

        def chat(self, conversations: list[Any], sampling_params: list[Any], use_tqdm: bool = True) -> list[Any]:
            self.calls.append((conversations, sampling_params))
            return [SimpleNamespace(prompt_token_ids=[1, 2, 3], outputs=[SimpleNamespace(
                text=good if "ok" in conv[-1]["content"] else "{not json", token_ids=[7] * 9,
                finish_reason="stop")]) for conv in conversations]

    engine = Engine()
    teacher = VLLMTeacher("/models/x", llm=engine, sampling_module=_fake_sampling(True))
    reqs = [TeacherRequest(messages=({"role": "user", "content": c},), json_schema=PROBLEM_SCHEMA, metadata={"c": c})
            for c in ("ok 1", "bad 2")]
    out = TeacherRunner(teacher, RunnerConfig(max_reasks=1)).run_sync(reqs)
    assert out[0].ok and out[0].parsed["answer"] == 5.0 and out[0].usage.total_tokens == 12
    assert not out[1].ok and out[1].metadata == {"c": "bad 2"}
    assert len(engine.calls) == 2 and len(engine.calls[1][0]) == 1  # only the garbled one was re-asked
    assert parse_problem_reply(out[1], BOXED)[0] is None


def test_vllm_missing_gives_a_clear_error() -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed")
    with pytest.raises(DataAgentError, match=r"install data-agent\[vllm\]"):
        build_teacher("vllm:/models/qwen")


# --------------------------------------------------------------------------- transformers


def test_hf_tiny_llama_teacher_generates(da_home: Path, tmp_path: Path) -> None:
    """A real local model answers through the session; its garbled JSON is a
    counted rejection, not a crash."""
    from data_agent.domain import load_domain
    from data_agent.generators.engine.llm_session import LLMSession

    with LLMSession("hf:tiny-llama", load_domain("science"), tmp_path / "run", max_tokens=12,
                    teacher_options={"batch_size": 2}) as session:
        reqs = [session.build("kinetics", 2, k, 1000 + k, 1) for k in range(2)]
        assert reqs[0].messages != reqs[1].messages
        out = asyncio.run(session.call(reqs))
        assert len(out) == 2
        for r in out:
            assert r.text and r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 100
            doc, why = parse_problem_reply(r, BOXED)
            assert doc is None and why
        u = session.usage()
        assert u["calls"] == 2 and u["requests"] == 2 and u["dollars"] == 0.0 and u["errors"] == 2
        assert "calls 2" in session.note()
        again = asyncio.run(session.call(reqs))  # failures are not cached: asked again
        assert [r.text for r in again] == [r.text for r in out]  # sampled, but seeded


# --------------------------------------------------------------------------- faults


def _requests(n: int) -> list[TeacherRequest]:
    return [TeacherRequest(
        messages=({"role": "system", "content": "You write short physics problems."},
                  {"role": "user", "content": f"Write problem #{i} about kinematics."}),
        params=SamplingParams(temperature=0.7, max_tokens=256), json_schema=PROBLEM_SCHEMA, metadata={"i": i})
        for i in range(n)]


def _own_reply(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """Deterministic reply to the request's ORIGINAL user message (also for re-asks)."""
    first_user = next(m for m in messages if m["role"] == "user")
    return default_responder([first_user], schema)


def _fault_emulator(**kw: Any) -> ProviderEmulator:
    faults = FaultConfig(rate_429=0.20, retry_after=0.01, rate_5xx=0.05, rate_timeout=0.02, timeout_sleep=2.5,
                         rate_malformed=0.02, seed=11, **kw)
    return ProviderEmulator(api_key=KEY, faults=faults, responder=_own_reply)


_RUNNER_KW = dict(max_concurrency=64, max_retries=15, backoff_base=0.01, backoff_max=0.1, timeout=10.0,
                  max_reasks=4)
_CLIENT_TIMEOUT = 2.0  # well above a loaded loopback reply, below the emulator's 2.5 s "timeout" fault


def test_2000_requests_under_faults_none_lost_none_duplicated() -> None:
    reqs = _requests(N_FAULT)
    with _fault_emulator() as emu:
        async def go() -> Any:
            teacher = OpenAIChatTeacher("emu-model", base_url=emu.base_url_openai, api_key=KEY,
                                        options=OpenAIOptions(timeout=_CLIENT_TIMEOUT))
            runner = TeacherRunner(teacher, RunnerConfig(**_RUNNER_KW))
            try:
                return await runner.run(reqs), runner.meter
            finally:
                await teacher.aclose()

        t0 = time.monotonic()
        out, meter = asyncio.run(go())
        elapsed = time.monotonic() - t0
        served = dict(emu.faults_served)
        # every request has exactly one response, in order, with its own content
        assert len(out) == N_FAULT
        for i, (req, r) in enumerate(zip(reqs, out)):
            assert r.ok, (i, r.error)
            assert r.metadata["i"] == i
            assert r.parsed == json.loads(_own_reply(list(req.messages), PROBLEM_SCHEMA))
        # at the emulator: exactly one clean (billed, fault-free) completion per request
        clean = emu.clean_completions
        assert sum(clean.values()) == N_FAULT and len(clean) == N_FAULT and max(clean.values()) == 1
        assert set(clean) == {request_content_key(r.messages, PROBLEM_SCHEMA) for r in reqs}
        # every call is a fault or a generation; every generation a clean reply or a malformed one
        http_faults = served.get("429", 0) + served.get("5xx", 0) + served.get("timeout", 0)
        assert emu.calls["openai.chat"] == http_faults + N_FAULT + served.get("malformed", 0)
        # malformed JSON is retryable in the backend: retried as is, like the HTTP faults
        assert meter.total.retries == http_faults + served.get("malformed", 0) and meter.total.errors == 0
        assert served.get("429", 0) > 300 and served.get("5xx", 0) > 50 and served.get("timeout", 0) > 10
        assert served.get("malformed", 0) > 10
    print(f"2000 requests under faults in {elapsed:.1f}s; faults served {served}")


_WORKLOAD = r"""
import asyncio, json, os, sys
sys.path.insert(0, os.environ["TEST_DIR"])
from test_teacher_engine import _requests, _RUNNER_KW, _CLIENT_TIMEOUT, N_FAULT
from data_agent.generators.engine.cache import ResponseCache
from data_agent.generators.teachers.openai_backend import OpenAIChatTeacher, OpenAIOptions
from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner

async def main():
    teacher = OpenAIChatTeacher("emu-model", base_url=sys.argv[1], api_key=os.environ["OPENAI_API_KEY"],
                                options=OpenAIOptions(timeout=_CLIENT_TIMEOUT))
    cache = ResponseCache(sys.argv[2])
    runner = TeacherRunner(teacher, RunnerConfig(**_RUNNER_KW), cache=cache)
    try:
        out = await runner.run(_requests(N_FAULT))
    finally:
        await teacher.aclose()
    print(json.dumps({"ok": sum(r.ok for r in out), "cached": sum(r.cached for r in out),
                      "hits": runner.meter.total.cache_hits}))

asyncio.run(main())
"""


def _cache_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    conn = sqlite3.connect(str(path), timeout=30)
    try:
        return {k for (k,) in conn.execute("SELECT key FROM responses")}
    except sqlite3.OperationalError:  # table not created yet
        return set()
    finally:
        conn.close()


def test_sigkill_mid_run_then_rerun_asks_only_the_missing(tmp_path: Path) -> None:
    cache_path = tmp_path / "teacher.sqlite"
    env = {**os.environ, "OPENAI_API_KEY": KEY, "TEST_DIR": str(Path(__file__).parent), "HF_HUB_OFFLINE": "1"}
    reqs = _requests(N_FAULT)
    with _fault_emulator(latency=0.01) as emu:
        cmd = [sys.executable, "-c", _WORKLOAD, emu.base_url_openai, str(cache_path)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(_cache_keys(cache_path)) < 400:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the workload made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        time.sleep(3.0)  # let the emulator finish the killed client's in-flight requests (and 'timeouts')

        cached = _cache_keys(cache_path)
        missing = N_FAULT - len(cached)
        assert 400 <= len(cached) < N_FAULT, len(cached)
        emu.reset_counters()
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        summary = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert summary == {"ok": N_FAULT, "cached": len(cached), "hits": len(cached)}
        assert KEY not in rerun.stdout + rerun.stderr

        # the rerun asked only for what was missing from the cache at restart...
        served = emu.faults_served
        http_faults = served["429"] + served["5xx"] + served["timeout"]
        assert emu.calls["openai.chat"] - http_faults - served["malformed"] == missing
        clean = emu.clean_completions
        assert sum(clean.values()) == missing and max(clean.values()) == 1
        from data_agent.generators.teachers.openai_backend import OpenAIChatTeacher as T

        cache_key = {r.cache_key(T.backend, "emu-model"): r for r in reqs}
        for key in cached:  # ...and never a request whose answer was cached
            assert emu.completions[request_content_key(cache_key[key].messages, PROBLEM_SCHEMA)] == 0
        assert len(_cache_keys(cache_path)) == N_FAULT
    print(f"killed with {len(cached)} of {N_FAULT} cached; the rerun asked for the {missing} missing "
          f"({emu.calls['openai.chat']} calls: {http_faults} HTTP faults and {served['malformed']} malformed "
          "replies, all retried)")


def test_session_reasks_garbled_replies_without_tripping_the_breaker(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that garbles every reply: each request is asked 1 + max_reasks
    times without backoff, ends as an error response (a counted rejection), and
    30 such requests do not open the circuit breaker (it is for transport failures)."""
    from data_agent.domain import load_domain
    from data_agent.generators.engine.llm_session import LLMSession

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with ProviderEmulator(api_key=KEY, responder=lambda m, s: '{"problem": "cut') as emu:
        with LLMSession(f"openai-compatible:{emu.base_url_openai}@emu-model", load_domain("science"), tmp_path,
                        cache_dir=tmp_path / "cache") as session:
            reqs = [session.build("kinetics", 1, k, 500 + k, 1) for k in range(30)]
            t0 = time.monotonic()
            out = session.call_sync(reqs)
            assert time.monotonic() - t0 < 20
        assert all(not r.ok and parse_problem_reply(r, BOXED)[0] is None for r in out)
        u = session.usage()
        assert u["calls"] == 30 * 3 == emu.calls["openai.chat"] and u["reasks"] == 60 and u["retries"] == 0
        assert u["errors"] == 30 and u["tokens"] > 0


def test_resumed_session_budget_counts_what_the_first_process_spent(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The run budget covers the run, not a process: a session reopened on the
    same run directory (as ``data-agent resume`` does) starts from the spending
    on record and stops at the limit, counted at the emulator."""
    from data_agent.domain import load_domain
    from data_agent.generators.engine.budget import Budget
    from data_agent.generators.engine.llm_session import LLMSession, TeacherStopped

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    domain = load_domain("science")
    with ProviderEmulator(api_key=KEY, responder=_science_responder) as emu:
        spec = f"openai-compatible:{emu.base_url_openai}@emu-model"
        with LLMSession(spec, domain, tmp_path / "run", use_cache=False) as first:
            first.call_sync([first.build("kinetics", 1, k, 100 + k, 1) for k in range(4)])
        spent = emu.calls["openai.chat"]  # re-asks of garbled replies included
        assert spent >= 4
        with LLMSession(spec, domain, tmp_path / "run", use_cache=False,
                        budget=Budget(max_calls=spent + 2)) as second:
            assert second.usage()["calls"] == spent and second.usage()["requests"] == 4
            with pytest.raises(TeacherStopped, match="max_calls"):
                second.call_sync([second.build("kinetics", 1, k, 200 + k, 1) for k in range(5)])
            assert second.usage()["iteration"]["calls"] == spent + 2  # same iteration: its scope continues too
        assert emu.calls["openai.chat"] == spent + 2


def test_teacher_client_is_what_sessions_and_the_engineer_share(tmp_path: Path) -> None:
    """The one client factory: prices (a local model costs nothing), cache, meter
    and budget, and the teacher as the runner drives it (online ones wrapped so a
    garbled reply is re-asked, batch ones as they are)."""
    from data_agent.generators.engine.budget import Budget
    from data_agent.generators.engine.client import ContentTolerantTeacher, TeacherClient, default_runner_config
    from data_agent.generators.teachers.base import Usage

    spec = parse_spec("hf:tiny-llama")
    client = TeacherClient(spec, default_runner_config(spec), meter_path=tmp_path / "meter.json", use_cache=False)
    assert client.cache is None and client.config.use_cache is False
    assert client.prices.cost("hf:tiny-llama", Usage(1000, 1000)) == 0.0 and client.budget.unlimited
    client.meter.record_requests(3)
    client.close()
    assert json.loads((tmp_path / "meter.json").read_text())["total"]["requests"] == 3

    online = SimpleNamespace(backend="x", model="y", generate_one=lambda request: None)
    batch = SimpleNamespace(backend="x", model="y", is_batch=True, generate=lambda requests: [])
    spec = parse_spec("openai:gpt-4.1-mini")
    budget = Budget(max_calls=4)
    client = TeacherClient(spec, RunnerConfig(), budget=budget, cache_dir=tmp_path / "cache")
    try:
        assert isinstance(client.wrap(online), ContentTolerantTeacher) and client.wrap(batch) is batch
        runner = client.runner(client.wrap(online))
        assert runner.cache is client.cache and runner.meter is client.meter and runner.budget is budget
        assert runner.prices is client.prices
        assert client.prices.cost("openai:gpt-4.1-mini", Usage(1000, 1000)) > 0
        assert (tmp_path / "cache" / "teacher.sqlite").exists() and client.meter.path is None
    finally:
        client.close()
    assert client.cache is None


@pytest.mark.slow
def test_run_stopped_by_its_budget_resumes_with_a_higher_one(tmp_path: Path, da_home: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that exhausts --max-calls stops with a clear error and keeps what it
    made; ``resume`` with a higher budget finishes it, and the run's spending
    (calls made before and after the stop) matches the emulator's count."""
    from data_agent.config import load_config
    from data_agent.generators.engine.llm_session import TeacherStopped
    from data_agent.loop import resume, specialize

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with ProviderEmulator(api_key=KEY, responder=_science_responder) as emu:
        cfg = load_config("smoke")
        cfg.teacher = f"openai-compatible:{emu.base_url_openai}@emu-model"
        cfg.n_records, cfg.iterations = 6, 1
        cfg.teachers.max_calls = 3
        run_dir = tmp_path / "run"
        with pytest.raises(TeacherStopped, match="max_calls reached"):
            specialize(cfg, run_dir=run_dir)
        assert emu.calls["openai.chat"] == 3
        assert json.loads((run_dir / "teacher" / "meter.json").read_text())["total"]["calls"] == 3
        with pytest.raises(TeacherStopped, match="max_calls reached"):  # same budget: no new call
            resume(run_dir)
        assert emu.calls["openai.chat"] == 3
        resume(run_dir, overrides={"teachers.max_calls": 200})
        total = emu.calls["openai.chat"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["costs"]["teacher_total"]["calls"] == total > 3
    assert json.loads((run_dir / "config.json").read_text())["teachers"]["max_calls"] == 200
    state = json.loads((run_dir / "state.json").read_text())
    assert state["status"] == "done" and state["config_changes"][0]["changes"] == {"teachers.max_calls": 200}


# --------------------------------------------------------------------------- end to end, secrets


def _science_responder(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """A teacher that answers the session's prompts: most replies are valid
    problems with a correct boxed answer; some are garbled JSON, some box a
    wrong number (both must become counted rejections)."""
    prompt = next(m["content"] for m in messages if m["role"] == "user")
    h = int(hashlib.sha256(prompt.encode()).hexdigest()[:12], 16)
    topic = re.search(r'topic "([^"]+)"', prompt)
    variation = re.search(r"Variation (\d+)", prompt)
    if h % 5 == 0:
        return '{"problem": "A gas expands isothermally from'  # garbled, even when re-asked
    answer = round(1 + (h % 90_000) / 1000, 3)
    boxed = f"{answer + 1.0:.3f}" if h % 5 == 1 else f"{answer:.3f}"
    doc = {"problem": f"Emulated {topic.group(1) if topic else 'science'} exercise {variation.group(1) if variation else h}: "
                      f"a sample quantity q equals {answer} units exactly. What is q?",
           "unit": "units",
           "solution": f"The quantity is given directly as q = {answer}. The answer is therefore \\boxed{{{boxed}}}.",
           "answer": answer}
    return json.dumps(doc)


@pytest.mark.slow
def test_llm_path_end_to_end_offline_never_writes_the_key(tmp_path: Path, da_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import emulated_smoke_run

    run_dir, _, calls = emulated_smoke_run(tmp_path, monkeypatch, KEY, _science_responder, n_records=4, iterations=1)

    gen = json.loads((run_dir / "iter-01" / "generation.json").read_text())
    assert len(json.loads((run_dir / "iter-01" / "submission.json").read_text())) == 4
    rejected = gen["validation"]["rejected_by_reason"]
    assert rejected.get("teacher_reply", 0) + rejected.get("answer_agreement", 0) > 0, gen
    assert gen["teacher_usage"]["calls"] > 0 and gen["teacher_usage"]["tokens"] > 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["costs"]["teacher_usage"][0]["calls"] == gen["teacher_usage"]["calls"]
    assert metrics["costs"]["teacher_total"]["calls"] == calls
    assert json.loads((run_dir / "teacher" / "meter.json").read_text())["total"]["calls"] == calls
    assert (da_home / "cache" / "teacher.sqlite").is_file()

    scanned = 0
    for root in (run_dir, da_home / "cache"):
        for p in root.rglob("*"):
            if p.is_file():
                scanned += 1
                assert KEY.encode() not in p.read_bytes(), f"the API key leaked into {p}"
    assert scanned > 5
