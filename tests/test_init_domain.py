"""``data-agent init-domain``: a pack made from a user's files loads, validates and
runs; bad files are one-line errors naming the file, line and field; and
``data-agent domains`` lists what there is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_agent import cli
from data_agent.domain import DomainError, load_domain, ngram_hashes
from data_agent.packs import domain_summaries, init_domain, read_rows
from data_agent.tasks import get_task

CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Canada", "Ottawa"),
            ("Egypt", "Cairo"), ("Norway", "Oslo"), ("Chile", "Santiago"), ("Spain", "Madrid"), ("Ghana", "Accra")]
SYMBOLS = [("sodium", "Na"), ("iron", "Fe"), ("gold", "Au"), ("silver", "Ag"), ("potassium", "K"), ("tin", "Sn")]


def _user_files(root: Path) -> dict[str, Path]:
    """The user's own files: validation rows as JSONL with their field names, test rows
    as CSV (one with a comma inside a quoted cell) and seeds as a JSON list."""
    root.mkdir(parents=True, exist_ok=True)
    val = [{"qid": f"v{k}", "question": f"What is the capital of {c}?", "gold": a, "source": "geo"}
           for k, (c, a) in enumerate(CAPITALS[:4])]
    val += [{"qid": f"v{k + 4}", "question": f"What is the chemical symbol of {e}?", "gold": s, "source": "chem"}
            for k, (e, s) in enumerate(SYMBOLS[:3])]
    (root / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in val), encoding="utf-8")
    lines = ["qid,question,gold,source"]
    lines += [f"t{k},What is the capital of {c}?,{a},geo" for k, (c, a) in enumerate(CAPITALS[4:8])]
    lines += ['t9,"What is the chemical symbol of tin, the metal?",Sn,chem']
    (root / "test.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    seeds = [{"qid": f"s{k}", "question": f"What is the capital of {c}?", "gold": a, "source": "geo",
              "solution": f"{a} is the seat of government of {c}."} for k, (c, a) in enumerate(CAPITALS[8:])]
    (root / "seeds.json").write_text(json.dumps(seeds), encoding="utf-8")
    return {"val": root / "val.jsonl", "test": root / "test.csv", "seeds": root / "seeds.json"}


FMAP = "id=qid,problem=question,answer=gold"


def test_a_pack_from_jsonl_csv_and_json_loads_and_validates(tmp_path: Path) -> None:
    from data_agent.domain import unsealed_test
    from data_agent.validators import validate_submission

    f = _user_files(tmp_path / "in")
    pack = init_domain("capitals", f["val"], f["test"], "exact", seeds=f["seeds"], field_map=FMAP,
                       out=tmp_path / "capitals", license_name="CC0-1.0")
    dom = load_domain(pack)  # verify=True: every sha256 and the sample submission
    assert dom.task.kind == "exact_match"
    m = dom.manifest
    assert m["counts"] == {"val": 7, "test": 5, "seeds": 2} and m["license_name"] == "CC0-1.0"
    assert m["decontamination"] == {"file": "decontamination.json", "n": 8, "fingerprints": "fingerprints.json"}
    assert dom.fingerprints is not None and len(dom.fingerprints) == m["counts"]["val"] + m["counts"]["test"]
    assert sorted(dom.skills()) == ["chem", "geo"]
    assert "Final answer: <the answer>" in dom.instruction
    items = {i.id: i for i in dom.val_items()}
    assert items["v0"].input == "What is the capital of France?" and items["v0"].gold == "Paris"
    with unsealed_test("checking a made pack's test rows"):
        tests = {i.id: i for i in dom.test_items()}
    assert tests["t9"].input == "What is the chemical symbol of tin, the metal?" and tests["t9"].source == "chem"
    # rows in the task's field names, nothing of the user's
    row = json.loads((pack / "val.jsonl").read_text().splitlines()[0])
    assert set(row) == {"id", "source", "input", "answer"}
    seed = json.loads((pack / "seeds.jsonl").read_text().splitlines()[0])
    assert seed["solution"].startswith("Madrid is")
    # the sample submission: the seeds in the training format, and it passes `validate`
    sample = json.loads((pack / "sample_submission.json").read_text())
    assert [r["input"] for r in sample] == ["What is the capital of Spain?", "What is the capital of Ghana?"]
    assert all(r["output"].endswith("\nFinal answer: " + a) for r, a in zip(sample, ["Madrid", "Accra"]))
    assert validate_submission(pack / "sample_submission.json", dom).ok
    cli.app(["validate", str(pack / "sample_submission.json"), "--domain", str(pack)], standalone_mode=False)
    # fingerprints: the evaluation problems' 8-grams (the test ones included)
    hashes = set(json.loads((pack / "decontamination.json").read_text())["hashes"])
    assert ngram_hashes("What is the chemical symbol of tin, the metal?", 8) <= hashes
    text = (pack / "description.md").read_text()
    assert "5 items" in text and "test.csv" in text and "exact_match" in text


def test_without_seeds_the_sample_is_made_up_and_ids_are_derived(tmp_path: Path) -> None:
    f = _user_files(tmp_path / "in")
    rows = [json.loads(x) for x in f["val"].read_text().splitlines()]
    for r in rows:
        del r["qid"]
    f["val"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    pack = init_domain("capitals", f["val"], f["test"], "exact", field_map="problem=question,answer=gold",
                       out=tmp_path / "p", instruction="Answer briefly.  End with 'Final answer: X'.")
    dom = load_domain(pack)
    assert dom.instruction == "Answer briefly. End with 'Final answer: X'."
    assert dom.seeds() == [] and dom.manifest["counts"]["seeds"] == 0
    ids = sorted(i.id for i in dom.val_items())
    assert all(i.startswith("item-") and len(i) == 17 for i in ids) and len(set(ids)) == 7
    again = init_domain("capitals", f["val"], f["test"], "exact", field_map="problem=question,answer=gold",
                        out=tmp_path / "p2", instruction="Answer briefly.")
    assert sorted(i.id for i in load_domain(again).val_items()) == ids  # deterministic
    sample = json.loads((pack / "sample_submission.json").read_text())
    evals = {i.input for i in dom.val_items()}
    assert 2 <= len(sample) <= 3 and not any(r["input"] in evals for r in sample)
    assert all(r["instruction"] == dom.instruction for r in sample)


def test_a_choice_pack_from_csv_with_options(tmp_path: Path) -> None:
    from data_agent.validators import validate_submission

    (tmp_path / "val.csv").write_text(
        'id,question,options,answer\n'
        'a1,Which number is prime?,"[""4"", ""7"", ""9""]",B\n'
        'a2,Which is a mammal?,"[""shark"", ""whale"", ""trout""]",whale\n', encoding="utf-8")
    (tmp_path / "test.jsonl").write_text(
        json.dumps({"id": "b1", "question": "Pick the even number.\n(A) 3\n(B) 5\n(C) 8", "answer": "c"}) + "\n",
        encoding="utf-8")
    pack = init_domain("quiz", tmp_path / "val.csv", tmp_path / "test.jsonl", "choice", out=tmp_path / "quiz")
    dom = load_domain(pack)
    items = {i.id: i for i in dom.val_items()}
    assert items["a2"].gold == "B" and items["a2"].input.endswith("A. shark\nB. whale\nC. trout")
    assert validate_submission(pack / "sample_submission.json", dom).ok
    assert all(r["output"].endswith(("Final answer: B", "Final answer: C"))
               for r in json.loads((pack / "sample_submission.json").read_text()))
    with pytest.raises(DomainError, match=r"test.jsonl:1: field 'answer': 'D' is not an option label of the input"):
        (tmp_path / "test.jsonl").write_text(json.dumps({"id": "b1", "question": "Pick.\n(A) 3\n(B) 8",
                                                         "answer": "D"}) + "\n")
        init_domain("quiz", tmp_path / "val.csv", tmp_path / "test.jsonl", "choice", out=tmp_path / "q2")
    (tmp_path / "bad.csv").write_text('id,question,options,answer\nx,Q?,4|7,A\n')
    with pytest.raises(DomainError, match=r"bad.csv:2: field 'options': expected a JSON list of options"):
        init_domain("quiz", tmp_path / "bad.csv", tmp_path / "val.csv", "choice", out=tmp_path / "q3")


def _err(tmp_path: Path, match: str, **kw) -> str:
    f = _user_files(tmp_path / "defaults")
    args = {"val": f["val"], "test": f["test"], "task": "exact", "field_map": FMAP, "out": tmp_path / "out", **kw}
    with pytest.raises(DomainError, match=match) as e:
        init_domain("capitals", **args)
    assert "\n" not in str(e.value)
    assert not (tmp_path / "out").exists(), "a failed init-domain left a pack behind"
    return str(e.value)


def test_overlapping_splits_are_refused_naming_the_ids(tmp_path: Path) -> None:
    f = _user_files(tmp_path / "in")
    rows = [json.loads(x) for x in f["val"].read_text().splitlines()]
    # the same problem under another id (case and spacing differ), and the same id
    rows[1]["question"] = "what is  the capital of CANADA?"
    rows[2]["qid"] = "t9"
    f["val"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DomainError, match=r"share 2 item\(s\) \(same id or problem\): v1, t9$"):
        init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP, out=tmp_path / "out")
    many = [{"qid": f"m{k}", "question": f"Question number {k}?", "gold": "x"} for k in range(8)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in many))
    with pytest.raises(DomainError, match=r"share 8 item\(s\) .*: m0, m1, m2, m3, m4 and 3 more$"):
        init_domain("capitals", tmp_path / "a.jsonl", tmp_path / "a.jsonl", "exact", field_map=FMAP,
                    out=tmp_path / "out")
    f = _user_files(tmp_path / "fresh")
    seeds = json.loads(f["seeds"].read_text())
    seeds[0]["question"] = "What is the capital of France?"
    f["seeds"].write_text(json.dumps(seeds))
    with pytest.raises(DomainError, match=r"seeds.json: 1 seed\(s\) are also evaluation items .*: s0$"):
        init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP, seeds=f["seeds"], out=tmp_path / "o")
    assert not (tmp_path / "out").exists() and not (tmp_path / "o").exists()


def test_a_missing_field_names_the_file_line_and_field(tmp_path: Path) -> None:
    f = _user_files(tmp_path / "in")
    lines = f["test"].read_text().splitlines()
    lines[3] = "t2,What is the capital of Norway?,,geo"  # no answer on line 4
    f["test"].write_text("\n".join(lines) + "\n")
    _err(tmp_path, r"test.csv:4: missing field 'gold' \(the answer; map another with --field-map answer=FIELD\)$",
         test=f["test"])
    rows = [json.loads(x) for x in f["val"].read_text().splitlines()]
    rows[5]["gold"] = ["Fe", ""]
    f["val"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    _err(tmp_path / "b", r"val.jsonl:6: field 'gold' must be a non-empty string or a list of them$", val=f["val"])
    rows[5]["gold"] = "Fe"
    rows[6]["question"] = 12
    f["val"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    _err(tmp_path / "c", r"val.jsonl:7: field 'question': expected a non-empty string", val=f["val"])
    rows[6]["question"] = "Q?"
    rows[6]["qid"] = "v0"
    f["val"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    _err(tmp_path / "d", r"val.jsonl:7: duplicate id 'v0' \(also at .*val.jsonl:1\)$", val=f["val"])


@pytest.mark.parametrize("content, message", [
    (b"qid,question,gold\nt1,caf\xe9?,x\n", r"bad.csv:2: not UTF-8 text \(byte 0xe9\)$"),
    (b'qid,question,gold\nt1,"unclosed,x\n', r"bad.csv:\d: malformed CSV"),
    (b"qid,question,gold\nt1,What?,x,extra\n", r"bad.csv:2: malformed CSV \(4 fields, the header has 3\)$"),
    (b"qid,qid,gold\nt1,a,b\n", r"bad.csv:1: malformed CSV header \(duplicate column 'qid'\)$"),
    (b"qid,question,gold\n", r"bad.csv: no rows$"),
])
def test_bad_csv_files(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "bad.csv").write_bytes(content)
    _err(tmp_path, message, test=tmp_path / "bad.csv")


@pytest.mark.parametrize("name, content, message", [
    ("bad.jsonl", b'{"qid": "a", "question": "Q?", "gold": "x"}\n{"qid": "b",\n', r"bad.jsonl:2: "),
    ("bad.jsonl", b'{"qid": "a"}\n', r"bad.jsonl:1: missing field 'question' \(the problem; map another"),
    ("bad.jsonl", b'{"qid": "a", "question": "Q?", "gold": "x"}\n[1]\n', r"bad.jsonl:2: expected a JSON object, got list$"),
    ("bad.json", b'{"rows": []}', r"bad.json: expected a JSON list of objects, got dict$"),
    ("bad.json", b'[{"qid": "a", "question": "Q?", "gold": "x"}, 3]', r"bad.json:row 2: expected a JSON object"),
    ("bad.txt", b"hello", r"bad.txt: unsupported file type '.txt'"),
    ("bad.jsonl", b'\xff{"a": 1}\n', r"bad.jsonl:1: not UTF-8 text \(byte 0xff\)$"),
])
def test_bad_json_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    _err(tmp_path, message, val=tmp_path / name)


def test_names_tasks_field_maps_and_existing_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = _user_files(tmp_path / "in")
    for bad in ("../evil", "a/b", ".hidden", "", "-x", "a..b"):
        with pytest.raises(DomainError, match="must be one plain path component"):
            init_domain(bad, f["val"], f["test"], "exact", field_map=FMAP)
    with pytest.raises(DomainError, match=r"--task: unknown task 'fuzzy' \(expected one of: numeric, python_literal, "
                                          r"exact, choice\)"):
        init_domain("x", f["val"], f["test"], "fuzzy")
    with pytest.raises(DomainError, match=r"--field-map: unknown field 'gold' for task 'exact_match'"):
        init_domain("x", f["val"], f["test"], "exact", field_map="gold=answer")
    with pytest.raises(DomainError, match=r"--field-map: expected logical=field pairs .* got 'problem'"):
        init_domain("x", f["val"], f["test"], "exact", field_map="problem")
    # the default folder is ./domains/NAME; a second run needs --force
    monkeypatch.chdir(tmp_path)
    pack = init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP)
    assert pack == tmp_path / "domains" / "capitals" and load_domain("capitals").name == "capitals"
    with pytest.raises(DomainError, match=r"domains/capitals: already exists \(use --force to replace it\)$"):
        init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP)
    (pack / "stale.txt").write_text("x")
    init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP, force=True)
    assert not (pack / "stale.txt").exists() and load_domain("capitals").manifest["counts"]["val"] == 7


def test_a_kind_not_installed_or_without_row_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from data_agent.tasks import base
    from data_agent.tasks.exact_match import ExactMatch

    f = _user_files(tmp_path / "in")
    if "numeric_tolerance" not in base.known_kinds():
        with pytest.raises(DomainError, match=r"--task numeric: not supported \(no task kind 'numeric_tolerance' "
                                              r"installed"):
            init_domain("x", f["val"], f["test"], "numeric", out=tmp_path / "x")

    class Bare(ExactMatch):
        kind = "python_literal"
        row_fields = {}

    monkeypatch.setitem(base._TASKS, "python_literal", Bare)
    with pytest.raises(DomainError, match=r"task kind 'python_literal' declares no row_fields"):
        init_domain("x", f["val"], f["test"], "python_literal", out=tmp_path / "x")


def test_every_installed_kind_declares_row_fields_and_a_rule() -> None:
    from data_agent.tasks import known_kinds

    for kind in known_kinds():
        task = get_task(kind)
        assert {"id", "problem", "answer"} <= set(task.row_fields), kind
        assert task.rule_summary and "\n" not in task.rule_summary and len(task.rule_summary) <= 100, kind
        for view in task.format_examples:  # the made-up sample records show the format
            _, output, _ = task.record_fields(task.example_document(view, 400))
            assert task.final_line_error(output) == "", (kind, output)


def test_read_rows_keeps_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n')
    assert [w.rsplit(":", 1)[1] for w, _ in read_rows(tmp_path / "a.jsonl")] == ["1", "3"]
    (tmp_path / "a.csv").write_text('x,y\n1,"two\nlines"\n3,4\n')
    got = read_rows(tmp_path / "a.csv")
    assert [r for _, r in got] == [{"x": "1", "y": "two\nlines"}, {"x": "3", "y": "4"}]
    assert got[1][0].endswith("a.csv:4")


def test_domains_lists_sizes_kind_rule_and_licence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture) -> None:
    import shutil

    from conftest import ROOT

    f = _user_files(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "domains" / "science", tmp_path / "domains" / "science")
    init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP, license_name="CC-BY-4.0")
    (tmp_path / "domains" / "broken").mkdir()
    (tmp_path / "domains" / "broken" / "pack.json").write_text("{")
    rows = {r["name"]: r for r in domain_summaries()}
    assert rows["science"]["task"] == "boxed_numeric" and rows["science"]["license"] == "MIT"
    assert (rows["science"]["val"], rows["science"]["test"], rows["science"]["seeds"]) == (144, 436, 112)
    assert rows["science"]["rule"] == "last \\boxed{} number, 5% relative tolerance"
    assert rows["capitals"] == {"name": "capitals", "title": "capitals: short answers (exact_match)",
                                "task": "exact_match", "rule": get_task("exact_match").rule_summary,
                                "val": 7, "test": 5, "seeds": 0, "license": "CC-BY-4.0"}
    assert "pack.json" in rows["broken"]["error"]

    cli.app(["domains", "--json"], standalone_mode=False)
    listed = json.loads(capsys.readouterr().out)
    # ./domains (the made packs, and a copy of science that hides the shipped one) plus the shipped packs
    assert [r["name"] for r in listed] == ["broken", "capitals", "code", "finance", "science"]
    assert listed[1] == rows["capitals"]
    monkeypatch.setattr(cli.out, "width", 200)
    cli.app(["domains"], standalone_mode=False)
    table = capsys.readouterr().out
    for word in ("capitals", "exact_match", "CC-BY-4.0", "science", "boxed_numeric", "MIT", "144", "436", "broken"):
        assert word in table, word


def test_the_cli_command_is_thin(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = _user_files(tmp_path / "in")
    cli.app(["init-domain", "capitals", "--val", str(f["val"]), "--test", str(f["test"]), "--seeds", str(f["seeds"]),
             "--task", "exact", "--field-map", FMAP, "--out", str(tmp_path / "pk"), "--title", "Capitals"],
            standalone_mode=False)
    assert "ok" in capsys.readouterr().out
    assert load_domain(tmp_path / "pk").manifest["title"] == "Capitals"
    with pytest.raises(DomainError, match="already exists"):
        cli.app(["init-domain", "capitals", "--val", str(f["val"]), "--test", str(f["test"]), "--task", "exact",
                 "--field-map", FMAP, "--out", str(tmp_path / "pk")], standalone_mode=False)


@pytest.mark.slow
def test_smoke_run_on_a_pack_made_by_init_domain(tmp_path: Path, da_home: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """A made pack runs the whole loop with an LLM teacher (the emulator), with and without seeds."""
    from data_agent.testing.emulator import default_responder

    from conftest import RecordingResponder, emulated_smoke_run

    f = _user_files(tmp_path / "in")
    pack = init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP, out=tmp_path / "capitals")
    responder = RecordingResponder(default_responder)
    run_dir, cfg, _ = emulated_smoke_run(tmp_path, monkeypatch, "emulator-" + "init-domain-key", responder,
                                      domain=str(pack))
    users = responder.user_prompts()
    assert users and all("Final answer: <the answer>" in u for u in users)
    sub = json.loads((run_dir / "iter-01" / "submission.json").read_text())
    assert len(sub) == cfg.n_records and all(r["instruction"] == load_domain(pack).instruction for r in sub)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["domain"] == "capitals" and metrics["test"]["n"] >= 1


def test_the_symbolic_teacher_refuses_a_made_pack_before_the_run_starts(tmp_path: Path) -> None:
    from data_agent.config import load_config
    from data_agent.errors import DataAgentError
    from data_agent.loop import specialize

    f = _user_files(tmp_path / "in")
    cfg = load_config("smoke")
    cfg.domain = str(init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP, out=tmp_path / "capitals"))
    with pytest.raises(DataAgentError, match="no template library for domain 'capitals'"):
        specialize(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def _choice_responder(messages, schema):
    """A teacher that writes valid multiple-choice documents (the emulator's generic
    documents have no labelled options)."""
    import hashlib

    h = int(hashlib.sha256(messages[-1]["content"].encode()).hexdigest()[:8], 16)
    a, b = h % 50 + 2, h % 7 + 1
    options = [a + b, a + b + 1, a + b - 1, a * b]
    right = "ABCD"[h % 4]
    options[h % 4], options[0] = options[0], options[h % 4]
    problem = f"What is {a} + {b}?\n" + "\n".join(f"{'ABCD'[i]}. {o}" for i, o in enumerate(options))
    return json.dumps({"problem": problem, "solution": f"{a} + {b} = {a + b}.\nFinal answer: {right}",
                       "answer": right})


@pytest.mark.slow
def test_smoke_run_on_a_choice_pack(tmp_path: Path, da_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import emulated_smoke_run

    rows = [{"id": f"q{k}", "question": f"What is {k} + {k + 1}?", "options": [str(2 * k + 1), str(2 * k), str(k)],
             "answer": "A", "source": "sums" if k % 2 else "mixed"} for k in range(12)]
    (tmp_path / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:6]))
    (tmp_path / "test.json").write_text(json.dumps(rows[6:]))
    pack = init_domain("sums", tmp_path / "val.jsonl", tmp_path / "test.json", "choice", out=tmp_path / "sums")
    run_dir, cfg, _ = emulated_smoke_run(tmp_path, monkeypatch, "emulator-" + "choice-pack-key", _choice_responder,
                                      domain=str(pack))
    sub = json.loads((run_dir / "iter-01" / "submission.json").read_text())
    task = get_task("choice")
    assert len(sub) == cfg.n_records and all(task.final_line_error(r["output"]) == "" for r in sub)
    items = {i.id: i for i in load_domain(pack).val_items()}
    rows_out = json.loads((run_dir / "iter-01" / "eval-val.json").read_text())["items"]
    assert rows_out and all(r["correct"] == task.is_correct(r["output"], items[r["id"]]) for r in rows_out)
    assert json.loads((run_dir / "metrics.json").read_text())["domain"] == "sums"


def test_choice_rows_with_the_same_stem_but_other_options_are_different_items(tmp_path: Path) -> None:
    stem = "Which of the following is a prime number?"
    (tmp_path / "val.jsonl").write_text(json.dumps({"id": "a", "input": stem, "options": ["4", "7"], "answer": "B"})
                                        + "\n")
    (tmp_path / "test.jsonl").write_text(json.dumps({"id": "b", "input": stem, "options": ["5", "8"], "answer": "A"})
                                         + "\n")
    pack = init_domain("primes", tmp_path / "val.jsonl", tmp_path / "test.jsonl", "choice", out=tmp_path / "p")
    assert load_domain(pack).manifest["counts"] == {"val": 1, "test": 1, "seeds": 0}
    (tmp_path / "test.jsonl").write_text(json.dumps({"id": "b", "input": stem, "options": ["4", "7"], "answer": "7"})
                                         + "\n")
    with pytest.raises(DomainError, match=r"share 1 item\(s\) \(same id or problem\): a$"):
        init_domain("primes", tmp_path / "val.jsonl", tmp_path / "test.jsonl", "choice", out=tmp_path / "q")


def test_numeric_and_python_literal_packs_from_csv_and_jsonl(tmp_path: Path) -> None:
    """The finance and code task kinds make packs too: a CSV of questions with a
    context column (numbers arrive as text) and a JSONL of functions and calls."""
    from data_agent.domain import unsealed_test
    from data_agent.validators import validate_submission

    root = tmp_path / "in"
    root.mkdir()
    rows = ["key,q,ctx,gold"] + [f"n{k},What is {k} plus {k + 1}?,A small table: {k} and {k + 1}.,{2 * k + 1}"
                                 for k in range(6)]
    (root / "val.csv").write_text("\n".join(rows[:4]) + "\n", encoding="utf-8")
    (root / "test.csv").write_text("\n".join(rows[:1] + rows[4:]) + "\n", encoding="utf-8")
    pack = init_domain("sums", root / "val.csv", root / "test.csv", "numeric", out=tmp_path / "sums",
                       field_map="id=key,problem=q,context=ctx,answer=gold")
    dom = load_domain(pack)
    assert dom.task.kind == "numeric_tolerance"
    item = {i.id: i for i in dom.val_items()}["n1"]
    assert item.gold == 3 and "A small table: 1 and 2." in item.input and "What is 1 plus 2?" in item.input
    assert dom.task.is_correct(dom.task.final_line("3.001"), item)  # within 0.2% of 3
    assert not dom.task.is_correct(dom.task.final_line("3.01"), item)
    assert validate_submission(dom.file("sample_submission"), dom).ok

    funcs = [{"id": f"c{k}", "code": f"def f(x):\n    return x * {k}", "input": str(k + 2), "output": str((k + 2) * k)}
             for k in range(5)]
    (root / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in funcs[:3]), encoding="utf-8")
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in funcs[3:]), encoding="utf-8")
    pack = init_domain("funcs", root / "val.jsonl", root / "test.jsonl", "python_literal", out=tmp_path / "funcs")
    dom = load_domain(pack)
    assert dom.task.kind == "python_literal"
    item = {i.id: i for i in dom.val_items()}["c2"]
    assert "return x * 2" in item.input and "f(4)" in item.input
    assert dom.task.is_correct(dom.task.final_line("8"), item) and not dom.task.is_correct(dom.task.final_line("9"), item)
    with unsealed_test("checking a made pack's test rows"):
        assert sorted(i.id for i in dom.test_items()) == ["c3", "c4"]
    assert validate_submission(dom.file("sample_submission"), dom).ok


def test_a_made_pack_does_not_hide_the_shipped_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packs made in ./domains and the shipped packs are found together; a made pack
    may not take a shipped pack's name unless forced."""
    f = _user_files(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    init_domain("capitals", f["val"], f["test"], "exact", field_map=FMAP)
    from data_agent.domain import list_domains

    assert {"capitals", "science", "code", "finance"} <= set(list_domains())
    assert load_domain("science").task.kind == "boxed_numeric" and load_domain("capitals").task.kind == "exact_match"
    with pytest.raises(DomainError, match="a pack named 'science' already exists .* would hide it"):
        init_domain("science", f["val"], f["test"], "exact", field_map=FMAP)
    assert not (tmp_path / "domains" / "science").exists()
