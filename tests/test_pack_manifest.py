"""pack.json is checked against a JSON Schema before anything is read, and every
file it names must lie inside the pack folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_agent.domain import PACK_SCHEMA, DomainError, load_domain

from test_custom_task_pack import build_toy_pack


def _write(root: Path, manifest: dict) -> None:
    (root / "pack.json").write_text(json.dumps(manifest))


@pytest.fixture()
def toy(tmp_path: Path) -> tuple[Path, dict]:
    root = build_toy_pack(tmp_path / "toyqa")
    return root, json.loads((root / "pack.json").read_text())


def test_the_shipped_and_toy_packs_match_the_schema(toy) -> None:
    from jsonschema import Draft202012Validator

    root, m = toy
    Draft202012Validator.check_schema(PACK_SCHEMA)
    assert not list(Draft202012Validator(PACK_SCHEMA).iter_errors(m))
    assert load_domain(root).name == "toyqa"
    assert load_domain("science").name == "science"


@pytest.mark.parametrize("change, message", [
    ({"files": ["val.jsonl"]}, r"pack.json: files: expected an object, got list$"),
    ({"files": {"val.jsonl": 3}}, r"pack.json: files.val.jsonl: expected a sha256"),
    ({"splits": {"test": "test.jsonl"}}, r"pack.json: 'splits' must be an object naming a 'val' and a 'test' file"),
    ({"splits": {"val": 3, "test": "test.jsonl"}}, r"pack.json: splits.val: expected a file name"),
    ({"decontamination": None}, r"pack.json: missing field 'decontamination'"),
    ({"decontamination": {"n": 8}}, r"pack.json: missing field 'decontamination.file'"),
    ({"counts": 6}, r"pack.json: counts: expected an object, got int"),
    ({"counts": {"val": "six"}}, r"pack.json: counts.val: expected an integer, got str"),
    ({"scorer": ["exact_match"]}, r"pack.json: scorer: expected an object with a 'kind'"),
    ({"skills": {"a": 1}}, r"pack.json: skills: expected a list, got dict"),
    ({"skills": ["a"]}, r"pack.json: skills\[0\]: expected an object with a non-empty 'name'"),
    ({"skills": [{"name": " "}]}, r"pack.json: skills\[0\].name: expected a non-empty name"),
    ({"skills": [{"name": "a", "sources": "geo"}]}, r"pack.json: skills\[0\].sources: expected a list of source"),
    ({"skills": [{"name": "a", "subject": 1}]}, r"pack.json: skills\[0\].subject: expected a string"),
    ({"instruction": 5}, r"pack.json: instruction: expected a string, got int"),
    ({"sources": {"geo": 1}}, r"pack.json: sources.geo: expected a string"),
    ({"name": "../evil"}, r"pack.json: name: must be a plain name"),
])
def test_a_structurally_wrong_manifest_is_a_one_line_error_naming_the_field(toy, change, message) -> None:
    root, m = toy
    m = {**m, **change}
    if m.get("decontamination", 0) is None:
        del m["decontamination"]
    _write(root, m)
    with pytest.raises(DomainError, match=message) as e:
        load_domain(root)
    assert "\n" not in str(e.value)


def test_a_manifest_that_is_not_an_object(toy) -> None:
    root, _ = toy
    (root / "pack.json").write_text("[1, 2]")
    with pytest.raises(DomainError, match="pack.json: the manifest: expected an object, got list"):
        load_domain(root)


@pytest.mark.parametrize("field, value", [
    ("seeds", "../outside.jsonl"),
    ("description", "/etc/passwd"),
    ("sample_submission", "sub/../../outside.json"),
    ("license", "../../../../etc/passwd"),
    ("decontamination.file", "/etc/hosts"),
    ("splits.val", "../val.jsonl"),
    ("splits.test", "/etc/hostname"),
])
def test_a_pack_path_outside_the_pack_is_refused_naming_the_field(toy, field, value) -> None:
    root, m = toy
    (root.parent / "outside.jsonl").write_text("{}\n")
    if "." in field:
        outer, inner = field.split(".")
        m[outer] = {**m[outer], inner: value}
    else:
        m[field] = value
    _write(root, m)
    with pytest.raises(DomainError, match=rf"pack.json: {field}: '{value}' lies outside the pack folder"):
        load_domain(root)


def test_a_files_entry_outside_the_pack_is_refused(toy) -> None:
    root, m = toy
    m["files"]["../../etc/hostname"] = "0" * 64
    _write(root, m)
    with pytest.raises(DomainError, match=r"pack.json: files: '../../etc/hostname' lies outside the pack folder"):
        load_domain(root)


def test_a_symlink_out_of_the_pack_counts_as_outside(toy, tmp_path: Path) -> None:
    root, m = toy
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text((root / "seeds.jsonl").read_text())
    (root / "seeds.jsonl").unlink()
    (root / "seeds.jsonl").symlink_to(outside)
    with pytest.raises(DomainError, match=r"pack.json: seeds: 'seeds.jsonl' lies outside the pack folder"):
        load_domain(root)


def test_a_symlink_inside_the_pack_is_fine(toy) -> None:
    root, m = toy
    (root / "data").mkdir()
    (root / "seeds.jsonl").rename(root / "data" / "seeds.jsonl")
    (root / "seeds.jsonl").symlink_to(root / "data" / "seeds.jsonl")
    assert len(load_domain(root).seeds()) == 4


def _rehash(root: Path, name: str) -> None:
    import hashlib

    m = json.loads((root / "pack.json").read_text())
    m["files"][name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    _write(root, m)


@pytest.mark.parametrize("split", ["test.jsonl", "val.jsonl"])
def test_a_broken_row_in_any_split_fails_before_the_run_directory_exists(toy, tmp_path: Path, split) -> None:
    """A test row is parsed only at the final step of a run; checked up front, its
    breakage is an error naming file and line before anything is created."""
    from data_agent.config import load_config
    from data_agent.loop import specialize

    root, _ = toy
    lines = (root / split).read_text().splitlines()
    row = json.loads(lines[1])
    row.pop("answer")
    lines[1] = json.dumps(row)
    (root / split).write_text("\n".join(lines) + "\n")
    _rehash(root, split)
    load_domain(root)  # the manifest and hashes are fine: only the row is broken
    run_dir = tmp_path / "run"
    cfg = load_config("smoke", overrides={"domain": str(root)})
    with pytest.raises(DomainError) as e:
        specialize(cfg, run_dir=run_dir)
    msg = str(e.value)
    assert "\n" not in msg and f"{split}:2: missing field 'answer'" in msg
    assert not run_dir.exists()


def test_the_row_check_keeps_only_a_count_of_the_test_split(toy) -> None:
    root, _ = toy
    check = load_domain(root).check_rows()
    assert check["rows"] == 6 and check["file"] == "test.jsonl" and len(check["sha256"]) == 64
    assert not any(w in json.dumps(check) for w in ("capital", "symbol", "Lima", "Oslo"))
