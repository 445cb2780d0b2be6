"""The real SDK-based teachers (openai / anthropic) against the local emulator.

Everything runs on 127.0.0.1 with tiny latencies and fast poll intervals.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from data_agent.generators.teachers.anthropic_backend import AnthropicBatchTeacher, AnthropicOptions, AnthropicTeacher
from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.generators.teachers.base import (
    FatalError,
    RetryableError,
    SamplingParams,
    TeacherError,
    TeacherRequest,
)
from data_agent.generators.teachers.common import BatchOptions, compute_cost
from data_agent.generators.teachers.openai_backend import OpenAIBatchTeacher, OpenAIChatTeacher, OpenAIOptions
from data_agent.testing import BatchConfig, FaultConfig, ProviderEmulator

KEY = "sk-" + "test-SECRET123"  # fake, assembled so scanners do not flag it
WRONG_KEY = "sk-" + "test-WRONGSECRET999"
PRICES = {"input": 2.0, "output": 8.0}
PROVIDERS = ["openai", "anthropic"]
MODELS = {"openai": "gpt-test", "anthropic": "claude-test"}

pytestmark = pytest.mark.timeout(60)


def make_request(i: int, *, schema: bool = True, max_tokens: int = 512) -> TeacherRequest:
    return TeacherRequest(
        messages=({"role": "system", "content": "You write short physics problems."},
                  {"role": "user", "content": f"Write problem number {i} about kinematics."}),
        params=SamplingParams(temperature=0.7, max_tokens=max_tokens),
        json_schema=PROBLEM_SCHEMA if schema else None,
        metadata={"i": i},
    )


def assert_no_secret(*texts: Any) -> None:
    for t in texts:
        s = str(t)
        assert "SECRET123" not in s and "WRONGSECRET999" not in s, s


def online(provider: str, emu: ProviderEmulator, *, api_key: str = KEY, transport: str | None = None,
           http_client: Any = None, **kw: Any):
    kw.setdefault("timeout", 5.0)
    kw.setdefault("prices", PRICES)
    if provider == "openai":
        return OpenAIChatTeacher(MODELS[provider], api_key=api_key, base_url=emu.base_url_openai,
                                 options=OpenAIOptions(**kw), transport=transport, http_client=http_client)
    return AnthropicTeacher(MODELS[provider], api_key=api_key, base_url=emu.base_url_anthropic,
                            options=AnthropicOptions(**kw))


def batch_teacher(provider: str, emu: ProviderEmulator, state_path: Path, *, api_key: str = KEY,
                  max_attempts: int = BatchOptions.max_attempts, **kw: Any):
    kw.setdefault("timeout", 5.0)
    kw.setdefault("prices", PRICES)
    batch = BatchOptions(poll_interval=0.01, retry_backoff=0.01, max_attempts=max_attempts)
    if provider == "openai":
        return OpenAIBatchTeacher(MODELS[provider], api_key=api_key, base_url=emu.base_url_openai,
                                  state_path=state_path, options=OpenAIOptions(**kw), batch_options=batch)
    return AnthropicBatchTeacher(MODELS[provider], api_key=api_key, base_url=emu.base_url_anthropic,
                                 state_path=state_path, options=AnthropicOptions(**kw), batch_options=batch)


async def one_error(teacher: Any, request: TeacherRequest) -> TeacherError:
    try:
        await teacher.generate_one(request)
    except TeacherError as e:
        assert_no_secret(e, repr(e), e.__cause__)
        return e
    finally:
        await teacher.aclose()
    raise AssertionError("expected a TeacherError")


@pytest.fixture
def emu(tmp_path: Path):
    faults = FaultConfig(retry_after=0.25, timeout_sleep=3.0, seed=7)
    with ProviderEmulator(api_key=KEY, state_dir=tmp_path / "emu", faults=faults,
                          batch=BatchConfig(polls_validating=1, polls_in_progress=1)) as e:
        yield e


# --------------------------------------------------------------------------- online


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plain_chat(emu: ProviderEmulator, provider: str) -> None:
    req = make_request(1, schema=False)

    async def go():
        t = online(provider, emu)
        try:
            return await t.generate_one(req)
        finally:
            await t.aclose()

    r = asyncio.run(go())
    assert r.ok and r.text.startswith("Emulated reply") and r.parsed is None
    assert r.finish_reason == "stop" and r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.cost == pytest.approx(compute_cost(r.usage, PRICES))
    assert emu.calls["openai.chat" if provider == "openai" else "anthropic.messages"] == 1
    assert emu.completion_count(req.messages) == 1
    # deterministic: same prompt, same reply
    assert asyncio.run(go()).text == r.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_json_schema(emu: ProviderEmulator, provider: str) -> None:
    reqs = [make_request(i) for i in range(3)]

    extra = {"max_tokens_param": "max_completion_tokens", "strict_schema": True} if provider == "openai" else {}

    async def go():
        t = online(provider, emu, **extra)
        try:
            return await t.generate(reqs)
        finally:
            await t.aclose()

    out = asyncio.run(go())
    for req, r in zip(reqs, out):
        assert r.ok, r.error
        jsonschema.validate(r.parsed, PROBLEM_SCHEMA)
        assert json.loads(r.text) == r.parsed
        assert f"\\boxed{{{r.parsed['answer']}}}" in r.parsed["solution"]
        assert r.metadata == {"i": req.metadata["i"]}
        assert emu.completion_count(req.messages, PROBLEM_SCHEMA, clean=True) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_carries_retry_after(emu: ProviderEmulator, provider: str) -> None:
    emu.inject("429")
    e = asyncio.run(one_error(online(provider, emu), make_request(1)))
    assert isinstance(e, RetryableError) and e.status == 429
    assert e.retry_after == pytest.approx(0.25)  # from retry-after-ms
    # Retry-After in whole seconds only
    emu.faults.send_retry_after_ms = False
    emu.faults.retry_after = 2
    emu.inject("429")
    e = asyncio.run(one_error(online(provider, emu), make_request(1)))
    assert isinstance(e, RetryableError) and e.retry_after == pytest.approx(2.0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_burst_then_success(tmp_path: Path, provider: str) -> None:
    with ProviderEmulator(api_key=KEY, faults=FaultConfig(burst_429=3, retry_after=0.01)) as emu:
        async def go():
            t = online(provider, emu)
            errors = []
            try:
                for _ in range(10):
                    try:
                        return await t.generate_one(make_request(5)), errors
                    except RetryableError as e:
                        errors.append(e)
                        await asyncio.sleep(e.retry_after or 0)
            finally:
                await t.aclose()
            raise AssertionError("never succeeded")

        r, errors = asyncio.run(go())
        assert r.ok and [e.status for e in errors] == [429, 429, 429]
        assert emu.faults_served["429"] == 3 and emu.completion_count(make_request(5).messages, PROBLEM_SCHEMA) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_5xx_is_retryable(emu: ProviderEmulator, provider: str) -> None:
    emu.inject("5xx")
    e = asyncio.run(one_error(online(provider, emu), make_request(1)))
    assert isinstance(e, RetryableError) and e.status == 500


@pytest.mark.parametrize("provider", PROVIDERS)
def test_401_is_fatal_and_key_not_leaked(emu: ProviderEmulator, provider: str) -> None:
    e = asyncio.run(one_error(online(provider, emu, api_key=WRONG_KEY), make_request(1)))
    assert isinstance(e, FatalError) and e.status == 401
    assert_no_secret(e, e.args)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeout_is_retryable(emu: ProviderEmulator, provider: str) -> None:
    emu.inject("timeout")
    t0 = time.monotonic()
    e = asyncio.run(one_error(online(provider, emu, timeout=0.3), make_request(1)))
    assert isinstance(e, RetryableError) and "timed out" in str(e)
    assert time.monotonic() - t0 < 2.5


@pytest.mark.parametrize("provider", PROVIDERS)
def test_malformed_json_is_retryable_with_usage(emu: ProviderEmulator, provider: str) -> None:
    emu.inject("malformed")
    e = asyncio.run(one_error(online(provider, emu), make_request(1)))
    assert isinstance(e, RetryableError) and "not valid JSON" in str(e)
    assert e.usage.completion_tokens > 0 and getattr(e, "cost", 0) > 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_truncated_is_retryable(emu: ProviderEmulator, provider: str) -> None:
    emu.inject("truncated")
    e = asyncio.run(one_error(online(provider, emu), make_request(1)))
    assert isinstance(e, RetryableError) and "truncated" in str(e)
    assert e.usage.completion_tokens == 512
    # a genuinely too small max_tokens is truncation too
    e = asyncio.run(one_error(online(provider, emu), make_request(2, max_tokens=8)))
    assert isinstance(e, RetryableError) and "truncated" in str(e)


def test_generate_returns_errors_instead_of_raising(emu: ProviderEmulator) -> None:
    emu.inject("5xx")

    async def go():
        t = online("openai", emu)
        try:
            return await t.generate([make_request(1), make_request(2)])
        finally:
            await t.aclose()

    out = asyncio.run(go())
    assert sum(not r.ok for r in out) == 1 and sum(r.ok for r in out) == 1


def test_anthropic_sampling_params_are_rejected_by_new_api_version(emu: ProviderEmulator) -> None:
    # SDK 2.x sends anthropic-version 2026-10-21, which refuses temperature: the default omits it.
    e = asyncio.run(one_error(online("anthropic", emu, send_sampling_params=True), make_request(1)))
    assert isinstance(e, FatalError) and e.status == 400 and "temperature" in str(e)


# --------------------------------------------------------------------------- batches


def _state_batches(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["batches"] if path.exists() else {}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_end_to_end(emu: ProviderEmulator, tmp_path: Path, provider: str) -> None:
    reqs = [make_request(i, schema=i % 3 != 0) for i in range(6)] + [make_request(1)]  # one duplicate
    state = tmp_path / "state.json"

    async def go():
        t = batch_teacher(provider, emu, state)
        try:
            return await t.generate(reqs)
        finally:
            await t.aclose()

    out = asyncio.run(go())
    assert all(r.ok for r in out), [r.error for r in out]
    for req, r in zip(reqs, out):
        if req.json_schema:
            jsonschema.validate(r.parsed, PROBLEM_SCHEMA)
        assert r.cost == pytest.approx(compute_cost(r.usage, PRICES, 0.5)) and r.cost > 0
        assert r.metadata["i"] == req.metadata["i"] and r.metadata["batch_attempts"] == 1
        assert emu.completion_count(req.messages, req.json_schema) == 1
    assert out[-1].text == out[1].text
    prefix = "openai" if provider == "openai" else "anthropic"
    assert emu.calls[f"{prefix}.batches.create"] == 1
    assert [b["size"] for b in emu.batches(provider)] == [6]
    assert _state_batches(state) == {}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_resume_after_restart(tmp_path: Path, provider: str) -> None:
    state_dir, state = tmp_path / "emu", tmp_path / "state.json"
    reqs = [make_request(i) for i in range(5)]
    prefix = "openai" if provider == "openai" else "anthropic"

    # Run 1: the batch never finishes; the process "dies" while polling.
    with ProviderEmulator(api_key=KEY, state_dir=state_dir,
                          batch=BatchConfig(polls_validating=1, polls_in_progress=10**6)) as emu1:
        async def run1():
            t = batch_teacher(provider, emu1, state)
            try:
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(t.generate(reqs), timeout=0.6)
            finally:
                await t.aclose()

        asyncio.run(run1())
        assert emu1.calls[f"{prefix}.batches.create"] == 1 and emu1.calls[f"{prefix}.batches.retrieve"] >= 2
        recorded = _state_batches(state)
        assert len(recorded) == 1
        assert sorted(next(iter(recorded.values()))["custom_ids"]) == sorted(
            r.cache_key(provider, MODELS[provider]) for r in reqs)

    # Run 2: a new emulator over the same state dir (other port), a new teacher over the same state file.
    with ProviderEmulator(api_key=KEY, state_dir=state_dir,
                          batch=BatchConfig(polls_validating=1, polls_in_progress=1)) as emu2:
        async def run2():
            t = batch_teacher(provider, emu2, state)
            try:
                return await t.generate(reqs)
            finally:
                await t.aclose()

        out = asyncio.run(run2())
        assert all(r.ok for r in out), [r.error for r in out]
        assert emu2.calls[f"{prefix}.batches.create"] == 0
        assert emu2.calls["openai.files.create"] == 0
        assert emu2.calls[f"{prefix}.batches.retrieve"] >= 1
        assert len(emu2.batches(provider)) == 1
        for r in reqs:
            assert emu2.completion_count(r.messages, PROBLEM_SCHEMA) == 1
        assert _state_batches(state) == {}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["errored", "expired"])
def test_batch_partial_failure_resubmits_only_missing(tmp_path: Path, provider: str, mode: str) -> None:
    cfg = (BatchConfig(item_error_rate=0.3, fault_batches=1, seed=3) if mode == "errored"
           else BatchConfig(expire=True, expire_fraction=0.5, fault_batches=1))
    reqs = [make_request(i) for i in range(10)]
    with ProviderEmulator(api_key=KEY, batch=cfg) as emu:
        async def go():
            t = batch_teacher(provider, emu, tmp_path / "state.json")
            try:
                return await t.generate(reqs)
            finally:
                await t.aclose()

        out = asyncio.run(go())
        assert all(r.ok for r in out), [r.error for r in out]
        sizes = [b["size"] for b in emu.batches(provider)]
        assert sizes == ([10, 3] if mode == "errored" else [10, 5])
        assert sorted(r.metadata["batch_attempts"] for r in out) == [1] * (10 - sizes[1]) + [2] * sizes[1]
        for r in reqs:  # nothing was generated twice
            assert emu.completion_count(r.messages, PROBLEM_SCHEMA) == 1
        if provider == "openai":
            first = emu.batches("openai")[0]
            assert first["status"] == ("completed" if mode == "errored" else "expired")
            assert first["error_file_id"] and first["output_file_id"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_malformed_items_resubmitted_and_billed(tmp_path: Path, provider: str) -> None:
    reqs = [make_request(i) for i in range(4)]
    with ProviderEmulator(api_key=KEY) as emu:
        emu.inject("malformed", 2)  # the first two items generated come back as non-JSON

        async def go():
            t = batch_teacher(provider, emu, tmp_path / "state.json")
            try:
                return await t.generate(reqs)
            finally:
                await t.aclose()

        out = asyncio.run(go())
        assert all(r.ok for r in out)
        assert [b["size"] for b in emu.batches(provider)] == [4, 2]
        twice = [r for r, q in zip(out, reqs) if emu.completion_count(q.messages, PROBLEM_SCHEMA) == 2]
        assert len(twice) == 2 and all(r.metadata["batch_attempts"] == 2 for r in twice)
        once = [r for r in out if r.metadata["batch_attempts"] == 1]
        # the wasted (billed) attempt is included in usage and cost
        assert min(r.usage.completion_tokens for r in twice) > max(r.usage.completion_tokens for r in once)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_attempts_are_bounded(tmp_path: Path, provider: str) -> None:
    reqs = [make_request(i) for i in range(3)]
    with ProviderEmulator(api_key=KEY, batch=BatchConfig(item_error_rate=1.0)) as emu:
        async def go():
            t = batch_teacher(provider, emu, tmp_path / "state.json", max_attempts=2)
            try:
                return await t.generate(reqs)
            finally:
                await t.aclose()

        out = asyncio.run(go())
        assert all(not r.ok and "after 2 attempt" in r.error for r in out)
        assert [b["size"] for b in emu.batches(provider)] == [3, 3]
        assert_no_secret(*(r.error for r in out))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_wrong_key_fails_cleanly(emu: ProviderEmulator, tmp_path: Path, provider: str) -> None:
    async def go():
        t = batch_teacher(provider, emu, tmp_path / "state.json", api_key=WRONG_KEY)
        try:
            return await t.generate([make_request(1)])
        finally:
            await t.aclose()

    out = asyncio.run(go())
    assert not out[0].ok and "401" in out[0].error
    assert_no_secret(out[0].error)


# --------------------------------------------------------------------------- standalone process


def test_standalone_process(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    errlog = open(tmp_path / "emulator.stderr", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "data_agent.testing.emulator", "--port", "0", "--api-key", KEY,
         "--latency", "0.01", "--state-dir", str(tmp_path / "st")],
        stdout=subprocess.PIPE, stderr=errlog, text=True, env=env, cwd=str(root))
    try:
        line = proc.stdout.readline()  # "emulator listening on http://127.0.0.1:PORT"
        assert line.startswith("emulator listening on http://127.0.0.1:"), (
            line, (tmp_path / "emulator.stderr").read_text())
        base = line.split()[-1]
        assert httpx.get(base + "/health", timeout=5).json() == {"status": "ok"}

        async def go():
            t = OpenAIChatTeacher("gpt-test", api_key=KEY, base_url=base + "/v1",
                                  options=OpenAIOptions(timeout=5))
            try:
                return await t.generate_one(make_request(9))
            finally:
                await t.aclose()

        assert asyncio.run(go()).ok
        stats = httpx.get(base + "/_emulator/stats", timeout=5).json()
        assert stats["calls"]["openai.chat"] == 1 and stats["completions_total"] == 1
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        errlog.close()


# --------------------------------------------------------------------------- openai transports


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_openai_transports_map_errors_alike(emu: ProviderEmulator, transport: str) -> None:
    if transport == "aiohttp":
        pytest.importorskip("aiohttp")
    t = online("openai", emu, transport=transport)
    assert t.transport == transport
    r = asyncio.run(_one_and_close(t, make_request(1)))
    assert r.ok and r.parsed is not None and r.cost == pytest.approx(compute_cost(r.usage, PRICES))
    emu.inject("429")
    e = asyncio.run(one_error(online("openai", emu, transport=transport), make_request(1)))
    assert isinstance(e, RetryableError) and e.status == 429 and e.retry_after == pytest.approx(0.25)
    e = asyncio.run(one_error(online("openai", emu, transport=transport, api_key=WRONG_KEY), make_request(1)))
    assert isinstance(e, FatalError) and e.status == 401
    emu.inject("timeout")
    e = asyncio.run(one_error(online("openai", emu, transport=transport, timeout=0.3), make_request(1)))
    assert isinstance(e, RetryableError) and "timed out" in str(e)


async def _one_and_close(t: Any, request: TeacherRequest) -> Any:
    try:
        return await t.generate_one(request)
    finally:
        await t.aclose()


def test_openai_auto_transport_and_reuse_across_event_loops(emu: ProviderEmulator) -> None:
    t = online("openai", emu)
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        assert t.transport == "httpx"
    else:
        assert t.transport == "aiohttp"
    # a second asyncio.run gets a client of its own instead of the dead loop's connections
    assert asyncio.run(t.generate_one(make_request(1))).ok
    assert asyncio.run(_one_and_close(t, make_request(2))).ok
    assert emu.calls["openai.chat"] == 2
    with pytest.raises(ValueError):
        online("openai", emu, transport="carrier-pigeon")


def test_openai_non_json_body_is_retryable(emu: ProviderEmulator) -> None:
    try:
        import httpx2 as hx
    except ImportError:  # older SDKs use httpx
        hx = httpx
    client = hx.AsyncClient(transport=hx.MockTransport(
        lambda request: hx.Response(200, content=b"<html>proxy says hi</html>",
                                    headers={"content-type": "text/html"})))
    t = online("openai", emu, http_client=client)
    assert t.transport == "custom"
    e = asyncio.run(one_error(t, make_request(1)))
    assert isinstance(e, RetryableError) and "not JSON" in str(e)


def test_emulator_replies_without_nagle_delay(emu: ProviderEmulator) -> None:
    # The reply is written as headers then body; with Nagle's algorithm on, the
    # body waited for the client's delayed ACK (~40 ms a call on Linux).
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
        client.post(emu.base_url_openai + "/chat/completions", json=body).raise_for_status()
        t0 = time.perf_counter()
        for _ in range(20):
            client.post(emu.base_url_openai + "/chat/completions", json=body).raise_for_status()
        elapsed = time.perf_counter() - t0
    assert elapsed < 0.6, f"20 keep-alive calls took {elapsed:.2f} s"
