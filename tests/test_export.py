"""data-agent export: a run's data as a Hugging Face dataset with a dataset card.

The fast tests build a small run directory by hand (a few files, no training);
the slow one exports a real smoke run.
"""

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from datasets import load_dataset, load_from_disk

from data_agent import api
from data_agent.config import load_config
from data_agent.domain import load_domain
from data_agent.errors import DataAgentError
from data_agent.export import COLUMNS, toml_lines, command_for

ROOT = Path(__file__).resolve().parent.parent
LINEAGE = ["id", "iteration", "teacher", "template", "topic", "subject", "difficulty", "seed", "attempt",
           "method_card", "answer", "accepted", "selected", "verification", "rejection_reason", "verdicts"]
VALIDATORS = ["length", "schema", "instruction", "injection", "boxed_format", "answer_agreement", "dedup",
              "decontamination"]

# Fake credentials, assembled so that secret scanners do not flag them.
CARD_SECRET = "sk-" + "exportcardsecret1234567890"
CLI_TOKEN = "hf_" + "secretsecretsecret"
HUB_TOKEN = "hf_" + "standintoken1234567890"
WRONG_TOKEN = "hf_" + "wrongtoken1234567890"
RIGHT_TOKEN = "hf_" + "righttoken"
SOME_TOKEN = "hf_" + "sometoken1234567890"



def _verdicts(fail_at: str | None = None, reason: str = ""):
    out = []
    for v in VALIDATORS:
        if v == fail_at:
            out.append({"validator": v, "ok": False, "reason": reason})
            return out
        out.append({"validator": v, "ok": True, "reason": ""})
    return out


def _record(it: int, k: int, instruction: str, *, accepted=True, fail_at=None, reason="", answer=1.5):
    value = 1.5 + k
    return {"instruction": instruction, "input": f"Iteration {it} problem {k}: compute {value} times one.",
            "output": f"It is {value}.\nThe answer is therefore \\boxed{{{value:.3f}}}.",
            "id": f"it{it:02d}-kinematics-d1-{k:04d}", "generator": "symbolic", "template": "uniform_motion",
            "topic": "kinematics", "subject": "physics", "difficulty": 1 + k % 2, "iteration": it,
            "seed": 1000 * it + k, "attempt": k, "answer": answer if answer is None else value,
            "verdicts": _verdicts(fail_at, reason), "accepted": accepted}


def _metrics(cfg) -> dict:
    def m(acc, lo, hi, fmt):
        return {"n": 6, "accuracy": acc, "accuracy_ci95": [lo, hi], "format_compliance": fmt, "per_source": {}}

    return {
        "domain": "science", "preset": "smoke", "student": cfg.student, "teacher": cfg.teacher,
        "engineer": cfg.engineer, "n_records": cfg.n_records, "base": {"val": m(0.0, 0.0, 0.0, 0.0)},
        "iterations": [{"iteration": 1, "val": m(1 / 6, 0.0, 0.5, 0.5)}, {"iteration": 2, "val": m(0.0, 0.0, 0.0, 0.25)}],
        "best_iteration": 1, "selection": "best validation accuracy",
        "test": {"n": 6, "of": 436, "subset": True, "base": m(0.0, 0.0, 0.0, 0.0),
                 "final": m(2 / 6, 0.0, 0.6667, 0.8333),
                 "gain": {"n": 6, "base_accuracy": 0.0, "final_accuracy": 2 / 6, "absolute_gain": 2 / 6,
                          "absolute_gain_ci95": [0.0, 0.6667], "relative_gain": None, "relative_gain_ci95": None}},
    }


def make_run(root: Path, finished: bool = True) -> Path:
    """A run directory of two iterations of 3 records each (iteration 1's pool
    also holds three rejected records), written by hand."""
    run = root / "run"
    cfg = load_config("smoke", overrides={"n_records": 3})
    instruction = load_domain("science").instruction
    (run / "teacher").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    for it in (1, 2) if finished else (1,):
        d = run / f"iter-{it:02d}"
        d.mkdir()
        pool = [_record(it, k, instruction) for k in range(3)]
        if it == 1:
            pool.insert(1, _record(it, 7, instruction, accepted=False, fail_at="decontamination",
                                   reason="decontamination: shares 2 8-gram(s) with evaluation problems"))
            pool.append(_record(it, 8, instruction, accepted=False, fail_at="answer_agreement",
                                reason="answer: final answer 9.5 disagrees with the known answer 9.6"))
            pool.append(_record(it, 9, instruction, accepted=False, fail_at="boxed_format",
                                reason="format: the output does not end with the answer line"))
        (d / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pool))
        sub = [r for r in pool if r["accepted"]]
        (d / "submission.json").write_text(json.dumps([{f: r[f] for f in ("instruction", "input", "output")}
                                                      for r in sub]))
        (d / "lineage.json").write_text(json.dumps([{"index": k, "id": r["id"]} for k, r in enumerate(sub)]))
        rej = {"decontamination": 1, "answer_agreement": 1, "boxed_format": 1} if it == 1 else {}
        (d / "generation.json").write_text(json.dumps({
            "requests": len(pool), "validation": {"checked": len(pool), "accepted": 3, "rejected_by_reason": rej},
            "notes": []}))
    steps = ["base/eval-val", "iter-01/plan", "iter-01/generate", "iter-01/train", "iter-01/eval-val"]
    if finished:
        steps += ["iter-02/plan", "iter-02/generate", "iter-02/train", "iter-02/eval-val", "final/test"]
        (run / "metrics.json").write_text(json.dumps(_metrics(cfg)))
        (run / "submission.json").write_text((run / "iter-01" / "submission.json").read_text())
    (run / "state.json").write_text(json.dumps({"status": "done" if finished else "running",
                                                "steps": {s: {} for s in steps}, "order": steps,
                                                "best_iteration": 1}))
    return run


def card_header(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def rows(ds) -> list[dict]:
    return [dict(r) for r in ds]


# --------------------------------------------------------------------------- records and columns


def test_submission_export_round_trips_through_parquet_and_arrow(tmp_path):
    run = make_run(tmp_path)
    dd = api.export(run, to=tmp_path / "pq")
    assert list(dd) == ["train"] and len(dd["train"]) == 3
    assert list(dd["train"].features) == list(COLUMNS)
    first = dd["train"][0]
    pool = [json.loads(line) for line in (run / "iter-01" / "pool.jsonl").read_text().splitlines()]
    assert first["id"] == pool[0]["id"] and first["input"] == pool[0]["input"]
    assert first["teacher"] == "symbolic" and first["template"] == "uniform_motion" and first["iteration"] == 1
    assert first["verification"] == "verified" and first["selected"] and first["accepted"]
    assert json.loads(first["answer"]) == pool[0]["answer"]
    assert [v["validator"] for v in first["verdicts"]] == VALIDATORS
    sub = json.loads((run / "submission.json").read_text())
    assert [{f: r[f] for f in ("instruction", "input", "output")} for r in dd["train"]] == sub

    files = sorted(str(p) for p in (tmp_path / "pq" / "data").glob("train-*.parquet"))
    back = load_dataset("parquet", data_files={"train": files})
    assert rows(back["train"]) == rows(dd["train"])

    api.export(run, to=tmp_path / "arrow", format="arrow")
    assert rows(load_from_disk(str(tmp_path / "arrow"))["train"]) == rows(dd["train"])
    api.export(run, to=tmp_path / "jsonl", format="jsonl")
    back = load_dataset("json", data_files={"train": str(tmp_path / "jsonl" / "data" / "train-00000-of-00001.jsonl")})
    assert [r["id"] for r in back["train"]] == [r["id"] for r in dd["train"]]


def test_card_header_and_body(tmp_path):
    run = make_run(tmp_path)
    api.export(run, to=tmp_path / "out", all_iterations=True)
    head = card_header(tmp_path / "out")
    assert head["license"] == "mit" and head["language"] == ["en"] and "text-generation" in head["task_categories"]
    assert {"science", "boxed_numeric", "synthetic"} <= set(head["tags"]) and head["pretty_name"]
    files = {f["split"]: f["path"] for f in head["configs"][0]["data_files"]}
    assert files == {"train": "data/train-*.parquet", "iter_01": "data/iter_01-*.parquet",
                     "iter_02": "data/iter_02-*.parquet"}
    assert {s["name"]: s["num_examples"] for s in head["dataset_info"]["splits"]} == {"train": 3, "iter_01": 3,
                                                                                      "iter_02": 3}
    assert [f["name"] for f in head["dataset_info"]["features"]] == list(COLUMNS)
    # the Hub's loader reads the header's configs: the splits come back from the folder alone
    back = load_dataset(str(tmp_path / "out"))
    assert sorted(back) == ["iter_01", "iter_02", "train"] and len(back["iter_02"]) == 3

    card = (tmp_path / "out" / "README.md").read_text()
    manifest = load_domain("science").manifest
    assert manifest["attribution"] in card and "licence: MIT" in card
    assert "| iteration 1 | 33.3% | [0.0%, 66.7%] | 83.3% |" in card  # the test result with its interval
    assert "Absolute gain +33.3 points (paired bootstrap 95% CI [+0.0, +66.7] points)" in card
    assert "decontamination: 1" in card and "answer_agreement: 1" in card
    assert "Rejections under `decontamination`: 1 (iteration 1: 1, iteration 2: 0)" in card
    assert "n = 8" in card and "engineer: `heuristic`" in card and "student: `tiny-llama`" in card
    assert "data-agent specialize --preset smoke --domain science --n-records 3" in card
    assert '"n_records": 3' in card  # config.json
    assert "has not finished" not in card


def test_pool_and_accepted_exports(tmp_path):
    run = make_run(tmp_path)
    pool = api.export(run, to=tmp_path / "pool", what="pool", all_iterations=True)
    assert len(pool["train"]) == 9 and len(pool["iter_01"]) == 6 and len(pool["iter_02"]) == 3
    rejected = [r for r in pool["train"] if not r["accepted"]]
    # decontamination runs after the answer check; a format failure stops before it
    assert [r["verification"] for r in rejected] == ["verified", "failed", "not_checked"]
    assert rejected[2]["rejection_reason"].startswith("format: ")
    assert rejected[0]["rejection_reason"].startswith("decontamination: shares 2")
    assert rejected[0]["verdicts"][-1] == {"validator": "decontamination", "ok": False,
                                           "reason": rejected[0]["rejection_reason"]}
    assert not any(r["selected"] for r in rejected)
    assert sum(r["selected"] for r in pool["train"]) == 6
    acc = api.export(run, to=tmp_path / "acc", what="accepted")
    assert list(acc) == ["train"] and len(acc["train"]) == 6 and all(acc["train"]["accepted"])
    assert [r["iteration"] for r in acc["train"]] == [1, 1, 1, 2, 2, 2]


def test_unfinished_run_exports_what_exists_with_a_note(tmp_path):
    run = make_run(tmp_path, finished=False)
    dd = api.export(run, to=tmp_path / "out")
    assert len(dd["train"]) == 3 and set(dd["train"]["iteration"]) == {1}
    card = (tmp_path / "out" / "README.md").read_text()
    assert "This run has not finished: its last finished step is 'iter-01/eval-val'" in card and "1 of 2 iterations have a submission" in card
    assert "the test split has not been scored" in card and "No results yet" in card
    card_header(tmp_path / "out")  # still a valid header


def test_records_that_disagree_with_the_pool_are_an_error(tmp_path):
    run = make_run(tmp_path)
    sub = json.loads((run / "iter-01" / "submission.json").read_text())
    sub[1]["output"] = "changed"
    (run / "iter-01" / "submission.json").write_text(json.dumps(sub))
    with pytest.raises(DataAgentError, match=r"iter-01/submission.json: record 1: 'output' differs from pool"):
        api.export(run, to=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_command_for_config(tmp_path):
    cfg = load_config("smoke", overrides={"n_records": 16, "teachers.requests_per_minute": 30}).to_dict()
    cfg["train"]["method"] = "lora"
    command, file_only = command_for(cfg)
    assert command == ("data-agent specialize --preset smoke --domain science --n-records 16 --rpm 30 "
                       "--config run.toml")
    assert file_only == {"train.method": "lora"}
    toml = tmp_path / "run.toml"  # the card's run.toml is a --config file that sets them
    toml.write_text("\n".join(toml_lines({**file_only, "train.lora_target_modules": ["q_proj", "v_proj"],
                                            "keep_models": "all"})) + "\n")
    got = load_config("smoke", toml)
    assert (got.train.method, got.train.lora_target_modules, got.keep_models) == ("lora", ["q_proj", "v_proj"], "all")
    cfg = load_config("cpu").to_dict()
    cfg["eval"]["val_subset"] = cfg["eval"]["test_subset"] = None
    assert command_for(cfg)[0] == "data-agent specialize --preset cpu --domain science --full-eval"


def test_card_redacts_secrets_and_names_other_licences(tmp_path, monkeypatch, science_copy):
    secret = CARD_SECRET
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    manifest = json.loads((science_copy / "pack.json").read_text())
    manifest["license_name"] = "Custom Research Licence"
    (science_copy / "pack.json").write_text(json.dumps(manifest))
    run = make_run(tmp_path)
    cfg = json.loads((run / "config.json").read_text())
    cfg["domain"] = str(science_copy)
    cfg["teachers"]["cache_dir"] = f"/cache/{secret}"  # a secret that reached the config by mistake
    (run / "config.json").write_text(json.dumps(cfg))
    api.export(run, to=tmp_path / "out")
    text = (tmp_path / "out" / "README.md").read_text()
    assert secret not in text and "/cache/" in text
    head = card_header(tmp_path / "out")
    assert head["license"] == "other" and head["license_name"] == "Custom Research Licence"


def test_a_run_whose_pack_is_gone(tmp_path):
    run = make_run(tmp_path)
    cfg = json.loads((run / "config.json").read_text())
    cfg["domain"] = str(tmp_path / "moved-pack")
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(DataAgentError, match=r"run: the run's domain pack cannot be loaded \(unknown domain"):
        api.export(run, to=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs, message", [
    ({"format": "csv"}, "unknown --format 'csv' (expected one of: parquet, jsonl, arrow)"),
    ({"what": "everything"}, "unknown --what 'everything' (expected one of: submission, pool, accepted)"),
    ({"private": True}, "--private needs --push-to-hub REPO_ID (it makes the new Hub repository private)"),
])
def test_bad_options(tmp_path, kwargs, message):
    run = make_run(tmp_path)
    with pytest.raises(DataAgentError) as e:
        api.export(run, to=tmp_path / "out", **kwargs)
    assert str(e.value) == message
    assert not (tmp_path / "out").exists()


def test_missing_and_not_a_run_directory(tmp_path):
    with pytest.raises(DataAgentError, match=r"nope: no such run directory$"):
        api.export(tmp_path / "nope", to=tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataAgentError, match=r"empty: not a run directory \(no config.json"):
        api.export(tmp_path / "empty", to=tmp_path / "out")
    (tmp_path / "notrun").mkdir()
    (tmp_path / "notrun" / "config.json").write_text("{}")
    (tmp_path / "notrun" / "state.json").write_text("[1, 2]")
    with pytest.raises(DataAgentError, match=r"notrun/state.json: expected a JSON object, got list$"):
        api.export(tmp_path / "notrun", to=tmp_path / "out")
    run = make_run(tmp_path)
    (run / "iter-02" / "lineage.json").write_text('{"index": 0}')
    with pytest.raises(DataAgentError, match=r"iter-02/lineage.json: expected a JSON list, got dict$"):
        api.export(run, to=tmp_path / "out")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(DataAgentError, match="taken: already exists and is not an empty folder"):
        api.export(run, to=tmp_path / "taken")


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "data_agent.cli", "export", *args], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}, timeout=120, cwd=ROOT)


def test_cli_errors_are_one_line(tmp_path):
    run = make_run(tmp_path)
    for args, needle in [((str(tmp_path / "nope"), "--to", str(tmp_path / "o")), "no such run directory"),
                         ((str(run), "--to", str(tmp_path / "o"), "--format", "xml"), "unknown --format 'xml'"),
                         ((str(run), "--to", str(tmp_path / "o"), "--push-to-hub", "me/data"), "offline mode is on")]:
        cp = _cli(*args, env={"HF_TOKEN": CLI_TOKEN})
        assert cp.returncode == 2, cp.stderr
        lines = [ln for ln in cp.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in cp.stderr, cp.stderr
        assert CLI_TOKEN not in cp.stderr + cp.stdout
    assert not (tmp_path / "o").exists()
    cp = _cli(str(run), "--to", str(tmp_path / "o"), "--what", "pool")
    assert cp.returncode == 0, cp.stderr
    assert "train (9)" in cp.stdout and (tmp_path / "o" / "README.md").is_file()


# --------------------------------------------------------------------------- the Hub


class StandInHub:
    """The few Hub API routes an upload uses, on 127.0.0.1: whoami, repo creation,
    README validation, preupload (every file 'regular') and the ndjson commit."""

    def __init__(self, token: str):
        hub = self
        self.token, self.calls, self.files, self.created = token, [], {}, []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self):
                ok = self.headers.get("authorization") == f"Bearer {hub.token}"
                if not ok:
                    self._reply(401, {"error": "Invalid credentials in Authorization header"})
                return ok

            def do_GET(self):
                hub.calls.append(("GET", self.path))
                if self.path.startswith("/api/whoami-v2") and self._authorised():
                    self._reply(200, {"type": "user", "name": "me", "auth": {"accessToken": {"role": "write"}}})
                elif not self.path.startswith("/api/whoami-v2"):
                    self._reply(404, {"error": "not here"})

            def do_POST(self):
                hub.calls.append(("POST", self.path))
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                if not self._authorised():
                    return
                if self.path == "/api/repos/create":
                    body = json.loads(data)
                    hub.created.append(body)
                    return self._reply(200, {"url": f"http://{self.headers['host']}/datasets/"
                                                    f"{body['organization']}/{body['name']}"})
                if self.path == "/api/validate-yaml":
                    yaml.safe_load(json.loads(data)["content"].split("---\n")[1])
                    return self._reply(200, {"errors": [], "warnings": []})
                if "/preupload/" in self.path:
                    files = json.loads(data)["files"]
                    return self._reply(200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                                        "shouldIgnore": False} for f in files]})
                if "/commit/" in self.path:
                    for line in data.decode().splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            hub.files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    return self._reply(200, {"commitUrl": f"http://{self.headers['host']}/datasets/me/data/commit/"
                                                          + "a" * 40, "commitOid": "a" * 40, "pullRequestUrl": None})
                self._reply(404, {"error": "not here"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def online(monkeypatch):
    """The Hub client as it is with HF_HUB_OFFLINE=0 (the tests' default is offline)."""
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def test_push_to_a_stand_in_hub(tmp_path, online, monkeypatch):
    from huggingface_hub import HfApi

    token = HUB_TOKEN
    monkeypatch.setenv("HF_TOKEN", token)
    hub = StandInHub(token)
    try:
        run = make_run(tmp_path)
        api.export(run, to=tmp_path / "out", push_to_hub="me/data", private=True, hub_api=HfApi(endpoint=hub.url))
    finally:
        hub.close()
    written = {str(p.relative_to(tmp_path / "out")): p.read_bytes() for p in (tmp_path / "out").rglob("*")
               if p.is_file()}
    assert hub.files == written and "README.md" in written and "data/train-00000-of-00001.parquet" in written
    assert hub.created == [{"name": "data", "organization": "me", "type": "dataset", "visibility": "private"}]
    assert hub.calls[0][1].startswith("/api/whoami-v2")  # the token and the connection are checked first
    assert all(token.encode() not in data for data in written.values())
    hub = StandInHub(token)  # a bare name goes to the token owner's namespace
    try:
        api.export(make_run(tmp_path / "again"), to=tmp_path / "out2", push_to_hub="data2",
                   hub_api=HfApi(endpoint=hub.url))
    finally:
        hub.close()
    assert [(c["organization"], c["name"]) for c in hub.created] == [("me", "data2")]
    assert "visibility" not in hub.created[0]  # not --private: the namespace's default


def test_push_fails_fast_without_token_or_connection(tmp_path, online, monkeypatch):
    from huggingface_hub import HfApi

    run = make_run(tmp_path)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(DataAgentError, match=r"^--push-to-hub: no token: set HF_TOKEN"):
        api.export(run, to=tmp_path / "out", push_to_hub="me/data")
    monkeypatch.setenv("HF_TOKEN", WRONG_TOKEN)
    hub = StandInHub(RIGHT_TOKEN)
    try:
        with pytest.raises(DataAgentError, match="the token was refused; check HF_TOKEN") as e:
            api.export(run, to=tmp_path / "out", push_to_hub="me/data", hub_api=HfApi(endpoint=hub.url))
        assert "hf_" + "wrongtoken" not in str(e.value)  # not even a prefix of it
    finally:
        hub.close()
    closed = hub.url  # nothing listens there any more
    with pytest.raises(DataAgentError, match=r"^--push-to-hub: cannot reach http://127\.0\.0\.1:\d+ \("):
        api.export(run, to=tmp_path / "out", push_to_hub="me/data", hub_api=HfApi(endpoint=closed))
    with pytest.raises(DataAgentError, match="is not a repository id"):
        api.export(run, to=tmp_path / "out", push_to_hub="me/da ta")
    assert not (tmp_path / "out").exists()


def test_push_offline_fails_before_writing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", SOME_TOKEN)
    run = make_run(tmp_path)
    with pytest.raises(DataAgentError, match=r"^--push-to-hub: offline mode is on \(HF_HUB_OFFLINE=1"):
        api.export(run, to=tmp_path / "out", push_to_hub="me/data")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- a real smoke run


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, da_home):
    from data_agent.loop import specialize

    run_dir = tmp_path_factory.mktemp("export-smoke") / "run"
    return specialize(load_config("smoke"), run_dir=run_dir)


@pytest.mark.slow
def test_export_a_smoke_run(smoke_run, tmp_path):
    m = json.loads((smoke_run / "metrics.json").read_text())
    dd = api.export(smoke_run, to=tmp_path / "pq", all_iterations=True)
    sub = json.loads((smoke_run / "submission.json").read_text())
    assert [{f: r[f] for f in ("instruction", "input", "output")} for r in dd["train"]] == sub
    assert set(dd["train"]["iteration"]) == {m["best_iteration"]}
    assert sorted(dd) == ["iter_01", "iter_02", "train"]
    files = sorted(str(p) for p in (tmp_path / "pq" / "data").glob("train-*.parquet"))
    back = load_dataset("parquet", data_files={"train": files})["train"]
    assert rows(back) == rows(dd["train"]) and set(LINEAGE) <= set(back.column_names)
    assert all(r["teacher"] == "symbolic" and r["template"] and r["verdicts"] for r in back)
    api.export(smoke_run, to=tmp_path / "arrow", format="arrow")
    assert rows(load_from_disk(str(tmp_path / "arrow"))["train"]) == rows(dd["train"])
    header = card_header(tmp_path / "pq")
    assert header["license"] == "mit"
    card = (tmp_path / "pq" / "README.md").read_text()
    t = m["test"]["final"]
    assert (f"| iteration {m['best_iteration']} | {100 * t['accuracy']:.1f}% | "
            f"[{100 * t['accuracy_ci95'][0]:.1f}%, {100 * t['accuracy_ci95'][1]:.1f}%] |") in card
    assert f"Test ({m['test']['n']} of {m['test']['of']} problems" in card
    pool = api.export(smoke_run, to=tmp_path / "pool", what="pool")
    n_pool = sum(len((smoke_run / f"iter-{i:02d}" / "pool.jsonl").read_text().splitlines()) for i in (1, 2))
    assert len(pool["train"]) == n_pool
