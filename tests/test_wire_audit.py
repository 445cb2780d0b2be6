"""The sealed test split, audited at the wire: test text in an outbound request stops the run, naming it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from data_agent.domain import load_domain, sha256_file, unsealed_test
from data_agent.generators.engine.runner import TeacherRunner
from data_agent.generators.engine.wire_audit import WireAudit, WireAuditError
from data_agent.generators.teachers.base import SamplingParams, TeacherRequest

KEY = "sk-" + "test-wire-audit"  # fake


def _test_text(domain, k=0) -> tuple[str, str]:
    with unsealed_test("a test that plants a test problem in an outbound request"):
        it = domain.test_items()[k]
    return it.id, it.input


def _request(text, role="teacher", **meta):
    return TeacherRequest(messages=({"role": "system", "content": "You write problems."},
                                    {"role": "user", "content": text}),
                          params=SamplingParams(), metadata={"role": role, **meta})


def test_a_span_of_a_test_item_is_stopped_and_everything_else_goes_through(tmp_path):
    d = load_domain("science")
    tid, text = _test_text(d)
    audit = WireAudit(d.fingerprints, tmp_path / "audit.json")
    (tmp_path / "audit.json").write_text(json.dumps({"test_reads": []}))
    seed = d.task.seed_view(d.seeds()[0])
    with unsealed_test("the same"):
        val = d.val_items()[0].input
    # seeds and validation problems may go out: they are not test text
    audit.check_all([_request(f"Style example:\n{seed['problem']}\n{seed['solution']}"), _request(val, "engineer")])
    words = text.split()
    mid = len(words) // 2
    span = " ".join(words[mid - 8:mid + 8])  # 16 words from the middle (its opening is boilerplate)
    with pytest.raises(WireAuditError) as e:
        audit.check_all([_request(f"Write a new problem like this one: {span}", topic="kinetics", attempt=3,
                                  iteration=2)])
    msg = str(e.value)
    assert msg.startswith("wire audit: the teacher request, iteration 2, topic kinetics, attempt 3 holds")
    assert "it was not sent" in msg
    wire = json.loads((tmp_path / "audit.json").read_text())["wire"]
    assert wire["checked_by_role"] == {"engineer": 1, "teacher": 1} and len(wire["blocked"]) == 1
    assert wire["blocked"][0]["request"].startswith("teacher request") and "test_reads" in json.loads(
        (tmp_path / "audit.json").read_text())
    # the whole item, in the middle of a long prompt, names the item itself
    with pytest.raises(WireAuditError, match=f"test item {tid}"):
        audit.check(_request("Context. " * 50 + text + " More context." * 50))


def test_the_runner_checks_before_anything_is_sent(tmp_path):
    d = load_domain("science")
    _, text = _test_text(d, 1)
    sent = []

    class Teacher:
        backend, model = "fake", "fake"

        async def generate_one(self, request):
            sent.append(request)
            raise AssertionError("nothing may be sent")

    runner = TeacherRunner(Teacher(), wire_audit=WireAudit(d.fingerprints))
    with pytest.raises(WireAuditError):
        asyncio.run(runner.run([_request("fine"), _request(text)]))
    assert sent == []


def test_test_text_in_the_engineers_context_stops_the_run_naming_the_request(tmp_path, science_copy, monkeypatch,
                                                                            da_home):
    """A test problem planted in the pack's description (which the LLM
    engineer's prompt holds) stops the run before the engineer is asked; the
    error names the request and audit.json logs it."""
    from data_agent.config import load_config
    from data_agent.loop import specialize
    from data_agent.testing.emulator import ProviderEmulator

    tid, text = _test_text(load_domain("science"), 2)
    desc = science_copy / "description.md"
    desc.write_text(desc.read_text() + "\nFor example:\n" + text + "\n")
    manifest = json.loads((science_copy / "pack.json").read_text())
    manifest["files"]["description.md"] = sha256_file(desc)
    (science_copy / "pack.json").write_text(json.dumps(manifest, indent=2))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with ProviderEmulator(api_key=KEY) as emu:
        cfg = load_config("smoke", overrides={"domain": str(science_copy)})
        cfg.engineer = f"openai-compatible:{emu.base_url_openai}@emu-engineer"
        cfg.teachers.cache_dir = str(tmp_path / "cache")
        with pytest.raises(WireAuditError) as e:
            specialize(cfg, run_dir=tmp_path / "run")
        assert emu.calls["openai.chat"] == 0
    assert str(e.value).startswith("wire audit: the engineer request holds")
    wire = json.loads((tmp_path / "run" / "audit.json").read_text())["wire"]
    assert wire["blocked"] and wire["blocked"][0]["request"] == "engineer request"
    assert not (tmp_path / "run" / "iter-01" / "plan.json").exists()


def test_a_run_logs_its_checked_requests_in_the_audit(tmp_path, monkeypatch, da_home):
    from conftest import emulated_smoke_run
    from data_agent.testing.emulator import default_responder

    run_dir, cfg, calls = emulated_smoke_run(tmp_path, monkeypatch, KEY, default_responder,
                                             cache_dir=tmp_path / "cache", iterations=1)
    wire = json.loads((run_dir / "audit.json").read_text())["wire"]
    assert wire["checked_by_role"]["teacher"] >= cfg.n_records and wire["blocked"] == []
    assert wire["rule"].startswith("no outbound request may hold 12 or more consecutive words of a test item")
