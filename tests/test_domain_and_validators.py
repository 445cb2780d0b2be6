import json

import pytest

from data_agent.domain import (
    DomainError,
    SealedSplitError,
    load_domain,
    stratified_subset,
    unsealed_test,
)
from data_agent.records import Record, SubmissionError, read_pool, JsonlAppender
from data_agent.tasks.boxed_numeric import format_problem, normalise_number
from data_agent.validators import default_pipeline, validate_submission


def test_science_pack_loads_and_splits():
    d = load_domain("science")
    val = d.val_items()
    assert len(val) == 144
    with unsealed_test("test"):
        test = d.test_items()
    assert len(test) == 436
    assert not {i.id for i in val} & {i.id for i in test}
    assert not {i.input for i in val} & {i.input for i in test}
    # stratified ~1/4 per book
    from collections import Counter

    cv, ct = Counter(i.source for i in val), Counter(i.source for i in test)
    for src in cv:
        assert abs(cv[src] / (cv[src] + ct[src]) - 0.25) < 0.05
    seeds = d.seeds()
    assert len(seeds) == 112
    assert not {s["problem_text"].strip() for s in seeds} & {i.raw["problem_text"].strip() for i in val + test}


def test_split_is_deterministic_by_hash():
    import hashlib

    d = load_domain("science")
    for it in d.val_items()[:20]:
        r = it.raw
        h = hashlib.sha256("|".join([r["source"].strip(), r["problemid"].strip(),
                                     r["problem_text"].strip()]).encode()).hexdigest()
        assert it.id.endswith(h[:10])


def test_test_split_is_sealed():
    d = load_domain("science")
    with pytest.raises(SealedSplitError):
        d.test_items()
    with unsealed_test("unit test"):
        assert d.test_items(5)
    with pytest.raises(SealedSplitError):
        d.test_items()


def test_every_test_read_goes_through_the_guard_and_is_audited(tmp_path):
    from data_agent import domain as domain_mod

    d = load_domain("science")
    with pytest.raises(SealedSplitError):
        d._items("test")  # the one reading function is guarded itself, not only its callers
    with pytest.raises(SealedSplitError, match="needs a reason"):
        with unsealed_test(" "):
            pass
    audit = tmp_path / "audit.json"
    before = len(domain_mod.TEST_READS)
    with unsealed_test("final scoring (unit test)", audit=audit):
        n = len(d.test_items(5))
    assert n == 5
    reads = json.loads(audit.read_text())["test_reads"]
    assert len(reads) == 1 and len(domain_mod.TEST_READS) == before + 1
    assert reads[0]["reason"] == "final scoring (unit test)" and reads[0]["split"] == "test"
    assert reads[0]["items"] == 436 and reads[0]["sha256"] == d.manifest["files"]["test.jsonl"]
    d.val_items()  # validation reads are free and not test reads
    assert len(json.loads(audit.read_text())["test_reads"]) == 1


def test_answers_normalised_in_code():
    assert normalise_number("+65.49") == 65.49
    assert normalise_number("89,034.79") == 89034.79
    assert normalise_number("\u22121.642876") == -1.642876


def test_changed_split_is_an_error(science_copy):
    p = science_copy / "val.jsonl"
    p.write_text(p.read_text().replace("a", "b", 1))
    with pytest.raises(DomainError, match="sha256 does not match"):
        load_domain(science_copy)


def test_missing_file_and_malformed_line(science_copy):
    (science_copy / "seeds.jsonl").unlink()
    with pytest.raises(DomainError, match="seeds.jsonl: file not found"):
        load_domain(science_copy)


def test_malformed_jsonl_line_names_line(science_copy):
    p = science_copy / "val.jsonl"
    lines = p.read_text().splitlines()
    lines[4] = lines[4][:-5]
    p.write_text("\n".join(lines) + "\n")
    d = load_domain(science_copy, verify=False)
    with pytest.raises(DomainError, match=r"val.jsonl:5: malformed JSON"):
        d.val_items()


def test_json_files_name_file_and_line(science_copy):
    manifest = science_copy / "pack.json"
    text = manifest.read_text()
    manifest.write_text(text.replace('"name"', '"name" "', 1))
    line = text[:text.index('"name"')].count("\n") + 1
    with pytest.raises(DomainError, match=rf"pack.json:{line}: malformed JSON"):
        load_domain(science_copy)
    manifest.write_text(text)
    sample = science_copy / load_domain(science_copy).manifest["sample_submission"]
    sample.write_text('[\n  {"instruction": "x",\n  oops\n]\n')
    with pytest.raises(DomainError, match=r"\.json:3: malformed JSON"):
        load_domain(science_copy)  # the changed file's JSON error comes before its sha256 mismatch
    with pytest.raises(DomainError, match=r"\.json:3: malformed JSON"):
        load_domain(science_copy, verify=False).sample_submission()
    sample.unlink()
    with pytest.raises(DomainError, match=r"\.json: file not found"):
        load_domain(science_copy, verify=False).sample_submission()


def test_json_helpers(tmp_path):
    from data_agent.records import parse_json, read_json

    p = tmp_path / "x.json"
    with pytest.raises(SubmissionError, match=r"^.*x\.json: file not found$"):
        read_json(p)
    p.write_text('{\n "a": 1,\n}\n')
    with pytest.raises(DomainError, match=r"x\.json:3: malformed JSON \(Expecting property name"):
        read_json(p, DomainError)
    with pytest.raises(SubmissionError, match=r"x\.json:7: malformed JSON"):
        parse_json("{oops", p, line=7)  # a JSONL line: its number in the file
    assert parse_json('{"a": [1]}', p) == {"a": [1]}


def test_missing_field_names_the_file_line_past_blank_lines(science_copy):
    p = science_copy / "val.jsonl"
    lines = p.read_text().splitlines()
    row = json.loads(lines[2])
    del row["source"]
    lines[2] = json.dumps(row)
    p.write_text("\n".join(lines[:2] + ["", ""] + lines[2:]) + "\n")  # two blank lines before it
    d = load_domain(science_copy, verify=False)
    with pytest.raises(DomainError, match=r"val.jsonl:5: missing field 'source'"):
        d.val_items()


def test_unknown_domain():
    with pytest.raises(DomainError, match="unknown domain 'nope'"):
        load_domain("nope")


def test_stratified_subset_deterministic():
    d = load_domain("science")
    a = [i.id for i in d.val_items(40)]
    b = [i.id for i in d.val_items(40)]
    assert a == b and len(a) == 40
    assert len({i.source for i in d.val_items(40)}) == 10
    assert stratified_subset(d.val_items(), 1000) == d.val_items()


def _good(d, text="A gas sample of 2.000 mol sits in 10.000 L at 300 K. Find p.", ans="4.925"):
    return Record(instruction=d.instruction, input=text,
                  output=f"p = nRT/V.\nThe answer is therefore \\boxed{{{ans}}}.", answer=4.925)


def test_pipeline_counts_rejections_by_reason():
    d = load_domain("science")
    pipe = default_pipeline(d)
    assert pipe.check(_good(d)).ok
    assert not pipe.check(_good(d)).ok  # duplicate input
    bad_fmt = _good(d, text="Another problem about a gas in a box, different words.", ans="4.93")
    assert not pipe.check(bad_fmt).ok
    wrong = _good(d, text="A third problem, again different wording here.", ans="5.925")
    assert not pipe.check(wrong).ok
    r = _good(d, text="Fourth problem text that is unique.")
    r.instruction = "something else"
    assert not pipe.check(r).ok
    val_text = d.val_items()[0].input
    assert not pipe.check(_good(d, text=val_text)).ok
    empty = _good(d, text="   ")
    assert not pipe.check(empty).ok
    s = pipe.summary()
    assert s["accepted"] == 1
    assert s["rejected_by_reason"] == {"dedup": 1, "boxed_format": 1, "answer_agreement": 1, "instruction": 1,
                                       "decontamination": 1, "schema": 1}


def test_decontamination_catches_test_problems_without_reading_the_split():
    d = load_domain("science")
    pipe = default_pipeline(d)
    with unsealed_test("fixture"):
        t = d.test_items(3)
    for it in t:
        assert not pipe.check(_good(d, text=it.input)).ok
    assert pipe.rejections["decontamination"] == 3


def test_validate_submission(tmp_path):
    d = load_domain("science")
    texts = ["A gas expands into a vacuum; find the work done.", "A spring is stretched by 2 cm; find its energy.",
             "A lens has focal length 10 cm; where is the image of an object at 30 cm?"]
    rows = [_good(d, text=t).submission_view() for t in texts]
    p = tmp_path / "submission.json"
    p.write_text(json.dumps(rows))
    assert validate_submission(p, d, expected_n=3).ok
    assert not validate_submission(p, d, expected_n=4).ok
    rows[1]["extra"] = "x"
    p.write_text(json.dumps(rows))
    with pytest.raises(SubmissionError, match=r"record 1: unexpected field 'extra'"):
        validate_submission(p, d)
    del rows[1]["extra"]
    del rows[2]["output"]
    p.write_text(json.dumps(rows))
    with pytest.raises(SubmissionError, match=r"record 2: missing field 'output'"):
        validate_submission(p, d)


def test_pool_survives_torn_last_line(tmp_path):
    p = tmp_path / "pool.jsonl"
    JsonlAppender(p).append([Record("i", "a", "o", id="1").to_dict(), Record("i", "b", "o", id="2").to_dict()])
    with open(p, "a") as f:
        f.write('{"instruction": "i", "inp')
    assert [r.id for r in read_pool(p)] == ["1", "2"]


def test_format_problem_adds_unit():
    assert format_problem("Find p.", " $\\mathrm{atm}$ ") == "Find p.\nThe unit of the answer is $\\mathrm{atm}$."
    assert format_problem("Find x.", " $") == "Find x."
