"""Bad input gets a one-line error naming the file, line or field; non-zero exit; no traceback."""

import json
import re
import os
import subprocess
import sys

import pytest

from data_agent.domain import load_domain


def run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "data_agent.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def assert_clean_error(cp, *needles):
    assert cp.returncode != 0
    assert "Traceback" not in cp.stderr + cp.stdout
    msg = " ".join(cp.stderr.split())
    for n in needles:
        assert n in msg, (n, cp.stderr)
    lines = [ln for ln in cp.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 or all(not ln.startswith(" ") for ln in lines[:1]), cp.stderr


def test_unknown_domain():
    assert_clean_error(run("specialize", "--domain", "nope"), "unknown domain 'nope'")


def test_pack_with_missing_file(science_copy):
    (science_copy / "test.jsonl").unlink()
    assert_clean_error(run("specialize", "--domain", str(science_copy), "--preset", "smoke"),
                       "test.jsonl: file not found")


def test_pack_with_malformed_line(science_copy, tmp_path):
    p = science_copy / "val.jsonl"
    lines = p.read_text().splitlines()
    lines[2] = "{not json"
    p.write_text("\n".join(lines) + "\n")
    # The changed file fails its manifest hash; the error names the broken line.
    assert_clean_error(run("validate", str(tmp_path / "x.json"), "--domain", str(science_copy)),
                       "val.jsonl:3: malformed JSON")
    assert_clean_error(run("specialize", "--domain", str(science_copy), "--preset", "smoke"),
                       "val.jsonl:3: malformed JSON")
    # With the hash updated, reading the split names the line too.
    import hashlib

    m = json.loads((science_copy / "pack.json").read_text())
    m["files"]["val.jsonl"] = hashlib.sha256(p.read_bytes()).hexdigest()
    (science_copy / "pack.json").write_text(json.dumps(m))
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "x", "output": "\\\\boxed{1}"}\n')
    assert_clean_error(run("evaluate", "--domain", str(science_copy), "--predictions", str(preds)),
                       "val.jsonl:3: malformed JSON")


def _submission(tmp_path, mutate):
    d = load_domain("science")
    rows = [{"instruction": d.instruction, "input": f"Problem {k}: a ball is thrown upward at speed {k} m/s.",
             "output": "h = v^2/2g.\nThe answer is therefore \\boxed{1.000}."} for k in range(3)]
    mutate(rows)
    p = tmp_path / "submission.json"
    p.write_text(json.dumps(rows))
    return p


def test_submission_missing_field(tmp_path):
    p = _submission(tmp_path, lambda rows: rows[1].pop("output"))
    assert_clean_error(run("validate", str(p)), "submission.json", "record 1", "missing field 'output'")


def test_submission_extra_field(tmp_path):
    p = _submission(tmp_path, lambda rows: rows[0].update(lineage="x"))
    assert_clean_error(run("validate", str(p)), "record 0", "unexpected field 'lineage'")


def test_submission_malformed_json(tmp_path):
    p = tmp_path / "submission.json"
    p.write_text('[{"instruction": "x",\n')
    assert_clean_error(run("validate", str(p)), "submission.json:2: malformed JSON")


def test_valid_submission_passes(tmp_path):
    p = _submission(tmp_path, lambda rows: None)
    cp = run("validate", str(p), "-n", "3")
    assert cp.returncode == 0, cp.stderr
    assert "ok" in cp.stdout


def test_predictions_malformed_line(tmp_path):
    p = tmp_path / "preds.jsonl"
    p.write_text('{"id": "a", "output": "x"}\n{"id": "b"\n')
    assert_clean_error(run("evaluate", "--split", "val", "--predictions", str(p)), "preds.jsonl:2: malformed JSON")


def test_evaluate_predictions_without_a_model(tmp_path):
    d = load_domain("science")
    items = d.val_items()
    p = tmp_path / "preds.jsonl"
    with p.open("w") as f:
        for i, it in enumerate(items):
            out = f"The answer is therefore \\boxed{{{it.gold:.3f}}}." if i % 2 == 0 else "no idea"
            f.write(json.dumps({"id": it.id, "output": out}) + "\n")
    out = tmp_path / "m.json"
    cp = run("evaluate", "--split", "val", "--predictions", str(p), "--output", str(out))
    assert cp.returncode == 0, cp.stderr
    m = json.loads(out.read_text())["metrics"]
    assert m["n"] == 144
    assert m["accuracy"] == pytest.approx(72 / 144)
    assert m["format_compliance"] == pytest.approx(72 / 144)
    assert m["accuracy_ci95"][0] < 0.5 < m["accuracy_ci95"][1]


def test_resume_of_a_non_run(tmp_path):
    assert_clean_error(run("resume", str(tmp_path)), "not a run directory")


def test_domains_lists_science():
    cp = run("domains")
    assert cp.returncode == 0 and "science" in cp.stdout


def test_missing_api_key_fails_before_any_work(tmp_path):
    env_backup = os.environ.pop("OPENAI_API_KEY", None)
    try:
        cp = run("specialize", "--preset", "smoke", "--teacher", "openai:gpt-4.1-mini", "--run-dir",
                 str(tmp_path / "run"))
    finally:
        if env_backup is not None:
            os.environ["OPENAI_API_KEY"] = env_backup
    assert_clean_error(cp, "OPENAI_API_KEY")
    assert not (tmp_path / "run").exists()


def test_unknown_teacher_spec():
    assert_clean_error(run("specialize", "--preset", "smoke", "--teacher", "gpt5"), "unknown model spec 'gpt5'")


@pytest.mark.parametrize("args, needle", [
    (("bogus",), "No such command 'bogus'"),
    (("specialize", "--bogus"), "No such option: --bogus"),
    (("specialize", "--n-records", "abc"), "Invalid value for '--n-records'"),
    (("resume",), "Missing argument"),
])
def test_usage_errors_are_clean(args, needle):
    cp = run(*args)
    assert cp.returncode == 2 and "Traceback" not in cp.stderr + cp.stdout
    assert needle in cp.stderr, cp.stderr


def test_resume_refuses_to_change_what_is_generated(tmp_path):
    """Only budgets and rates may change on resume (a run stopped by a budget
    continues with a higher one); the rest of config.json stays as started."""
    from data_agent.loop import resume

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    from data_agent.config import load_config

    (run_dir / "config.json").write_text(json.dumps(load_config("smoke").to_dict()))
    (run_dir / "state.json").write_text(json.dumps({"status": "running", "steps": {}, "order": []}))
    with pytest.raises(Exception, match="cannot change n_records"):
        resume(run_dir, overrides={"n_records": 5})


# ------------------------------------------------------------------ values and encodings

def test_bad_config_value_is_one_line_before_any_run_directory(tmp_path):
    f = tmp_path / "run.toml"
    f.write_text('[train]\nlearning_rate = "fast"\n')
    cp = run("specialize", "--preset", "smoke", "--config", str(f), "--run-dir", str(tmp_path / "run"))
    assert cp.returncode == 2
    assert_clean_error(cp, f"{f}: train.learning_rate: expected a number, got 'fast'")
    assert not (tmp_path / "run").exists()


def test_too_many_records_without_force_is_one_line(tmp_path):
    cp = run("specialize", "--preset", "smoke", "-n", "1000000", "--run-dir", str(tmp_path / "run"))
    assert_clean_error(cp, "n_records (--n-records): 1,000,000 is above the bound of 100,000", "--force")
    assert not (tmp_path / "run").exists()


def test_predictions_with_a_duplicate_id(tmp_path):
    from data_agent.api import evaluate
    from data_agent.errors import DataAgentError
    from data_agent.trainers.evaluate import read_predictions

    items = load_domain("science").val_items()
    p = tmp_path / "preds.jsonl"
    p.write_text("".join(json.dumps({"id": it.id, "output": "x"}) + "\n" for it in (items[0], items[1], items[0])))
    message = f"{p}:3: duplicate id {items[0].id!r} (first on line 1)"
    with pytest.raises(DataAgentError) as e:
        read_predictions(p)
    assert str(e.value) == message
    with pytest.raises(DataAgentError, match=re.escape(message)):
        evaluate("science", split="val", predictions=p)


def test_predictions_that_are_not_utf8(tmp_path):
    from data_agent.errors import DataAgentError
    from data_agent.trainers.evaluate import read_predictions

    p = tmp_path / "preds.jsonl"
    p.write_bytes(b'{"id": "a", "output": "x"}\n{"id": "b", "output": "caf\xe9"}\n')
    with pytest.raises(DataAgentError) as e:
        read_predictions(p)
    assert str(e.value) == f"{p}:2: not UTF-8 text (byte 0xe9)"


def test_pack_files_that_are_not_utf8(science_copy):
    from data_agent.domain import DomainError

    p = science_copy / "val.jsonl"
    lines = p.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b'"', b'"\xff', 1)
    p.write_bytes(b"\n".join(lines))
    with pytest.raises(DomainError, match=rf"^{re.escape(str(p))}:5: not UTF-8 text \(byte 0xff\)$"):
        load_domain(str(science_copy))
    manifest = science_copy / "pack.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"{", b"{\xc3", 1))
    with pytest.raises(DomainError, match=rf"^{re.escape(str(manifest))}:1: not UTF-8 text \(byte 0xc3\)$"):
        load_domain(str(science_copy))


def test_submission_that_is_not_utf8(tmp_path):
    from data_agent.records import SubmissionError, read_submission

    p = _submission(tmp_path, lambda rows: None)
    p.write_bytes(p.read_bytes().replace(b"[", b"[\n\x80", 1))
    with pytest.raises(SubmissionError) as e:
        read_submission(p)
    assert str(e.value) == f"{p}:2: not UTF-8 text (byte 0x80)"
    assert_clean_error(run("validate", str(p)), "submission.json:2: not UTF-8 text (byte 0x80)")


def test_evaluate_refuses_a_non_positive_decoding_budget(tmp_path):
    from data_agent.api import evaluate
    from data_agent.errors import DataAgentError

    with pytest.raises(DataAgentError, match=r"--max-new-tokens must be a positive number of tokens, got 0"):
        evaluate("science", split="val", predictions=tmp_path / "p.jsonl", max_new_tokens=0)
