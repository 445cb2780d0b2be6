"""Build domains/code/ from CRUXEval (../shared/data/cruxeval by default).

The 800 output-prediction items are split deterministically by a hash of their
id: ``int(sha256(id), 16) % 10`` is 0 for a seed, 1-2 for validation and 3-9
for test (about 10% / 20% / 70%); within each file rows are ordered by that
hash. Rows are copied unchanged (``id``, ``code``, ``input``, ``output``) plus a
``source``; seeds add a ``solution``: a generic short trace (the call, then the
returned value) ending with the task's answer line, since CRUXEval ships no
worked solutions. Decontamination fingerprints are hashed word 8-grams of the
validation and test problems' code and call (each on its own, without the
question's fixed words), less the 8-grams the seeds share with them (common
idioms such as ``for i in range(len(nums))``).

    python scripts/build_code_pack.py [--src ../shared/data/cruxeval] [--out domains/code]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ATTRIBUTION = ("CRUXEval (Gu et al., 2024, 'CRUXEval: A Benchmark for Code Reasoning, Understanding and "
               "Execution'), github facebookresearch/cruxeval @ 190faf16d175b5847b0af05d937872b1fb395942, "
               "data/cruxeval.jsonl, MIT licence.")
SKILLS = {
    "string_methods": "str methods: replace, split/join, partition, slicing, case changes, prefixes, character classes",
    "list_ops": "list methods and slicing: append, pop, insert, remove, slice assignment, rotation, zip, enumerate",
    "dict_ops": "dict methods: get, update, pop, setdefault, fromkeys, inversion, grouping, sorting items",
    "arithmetic": "integer arithmetic: //, %, divmod, digits, bases, gcd",
    "loops_conditionals": "while and for loops with if/elif/else, counters, running extremes, string building",
    "sorting": "sorted and list.sort with key functions, reverse, stable ties",
    "comprehension": "list, dict and nested comprehensions with conditions",
    "set_ops": "set intersection, difference, union and symmetric difference",
}


def bucket(item_id: str) -> int:
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest(), 16) % 10


def order(item_id: str) -> str:
    return hashlib.sha256(item_id.encode("utf-8")).hexdigest()


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def build(src: Path, out: Path, fingerprints: bool = True) -> dict:
    from data_agent.domain import ngram_hashes, sha256_file
    from data_agent.tasks.python_literal import CLOSE, OPEN, PythonLiteral

    task = PythonLiteral()
    instruction = (
        "You are given a Python function f and an input. Predict the output of f on that input without running "
        "it: reason step by step, then end with a last line of the form "
        f"\"{OPEN} <output> {CLOSE}\", where <output> is the value f returns written as a Python literal "
        f"(for example {OPEN} [1, 'a'] {CLOSE})."
    )
    out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in (src / "cruxeval.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    seeds, val, test = [], [], []
    for r in sorted(rows, key=lambda r: order(r["id"])):
        row = {"id": r["id"], "source": "cruxeval", "code": r["code"], "input": r["input"], "output": r["output"]}
        b = bucket(r["id"])
        if b == 0:
            row["solution"] = (f"We call f({r['input']}).\nFollowing the function's statements on this input, "
                               f"f returns {r['output']}.\n{task.final_line(r['output'])}")
            seeds.append(row)
        elif b <= 2:
            val.append(row)
        else:
            test.append(row)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "item ids are not unique"
    for r in seeds + val + test:
        task.item(r)  # every row reads with the task (a gold output that is not a literal fails here)

    write_jsonl(out / "val.jsonl", val)
    write_jsonl(out / "test.jsonl", test)
    write_jsonl(out / "seeds.jsonl", seeds)
    shutil.copyfile(src / "LICENSE", out / "LICENSE")

    # The code and the call of each problem, each on its own: the question's fixed words around them
    # ("python def f", "what is the output of f") would otherwise make every short function look shared.
    def grams(r: dict) -> set[str]:
        return ngram_hashes(r["code"], 8) | ngram_hashes(f"f({r['input']})", 8)

    eval_hashes = set().union(*(grams(r) for r in val + test))
    seed_hashes = set().union(*(grams(s) for s in seeds))
    hashes = sorted(eval_hashes - seed_hashes)
    print(f"decontamination: {len(eval_hashes)} evaluation 8-grams, {len(eval_hashes & seed_hashes)} shared "
          f"with seeds left out")
    (out / "decontamination.json").write_text(json.dumps({"n": 8, "hashes": hashes}) + "\n", encoding="utf-8")

    sample = [{"instruction": instruction, "input": task.item(s).input, "output": s["solution"]}
              for s in (seeds[0], seeds[len(seeds) // 2], seeds[-1])]
    (out / "sample_submission.json").write_text(json.dumps(sample, indent=2, ensure_ascii=False) + "\n",
                                                encoding="utf-8")
    (out / "description.md").write_text(
        "# code: Python output prediction (CRUXEval)\n\n"
        "Each problem is a short Python function `f` and an input; the student predicts the value `f` returns and "
        f"writes it as a Python literal on a last line `{OPEN} <output> {CLOSE}`. The prediction is compared "
        "with the gold output as a Python value (`ast.literal_eval` on both, then `==`); it is never executed. "
        "The rule and its differences from CRUXEval's official scoring are in `data_agent/tasks/python_literal.py`.\n\n"
        f"Source: {ATTRIBUTION} See LICENSE.\n\n"
        f"Split by `sha256(id) mod 10`: 0 seeds ({len(seeds)}), 1-2 validation ({len(val)}), 3-9 test "
        f"({len(test)}). Seeds carry a generic trace (the call, then the returned value), not a worked "
        "solution: CRUXEval has none.\n", encoding="utf-8")

    manifest = {
        "name": "code",
        "title": "Python output prediction (CRUXEval)",
        "instruction": instruction,
        "description": "description.md",
        "license": "LICENSE",
        "license_name": "MIT",
        "attribution": ATTRIBUTION,
        "scorer": {"kind": "python_literal"},
        "splits": {"val": "val.jsonl", "test": "test.jsonl"},
        "seeds": "seeds.jsonl",
        "sample_submission": "sample_submission.json",
        "decontamination": {"file": "decontamination.json", "n": 8},
        "sources": {"cruxeval": "python"},
        "skills": [{"name": k, "subject": "python", "description": v, "sources": ["cruxeval"]}
                   for k, v in SKILLS.items()],
        "files": {name: sha256_file(out / name) for name in
                  ["val.jsonl", "test.jsonl", "seeds.jsonl", "sample_submission.json", "description.md", "LICENSE",
                   "decontamination.json"]},
        "counts": {"val": len(val), "test": len(test), "seeds": len(seeds)},
    }
    (out / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"val={len(val)} test={len(test)} seeds={len(seeds)} -> {out}")
    if fingerprints:
        from data_agent.packs import write_fingerprints

        n = write_fingerprints(out)
        print(f"fingerprints.json: {n['val']} validation and {n['test']} test items")
    return json.loads((out / "pack.json").read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "cruxeval")
    ap.add_argument("--out", type=Path, default=ROOT / "domains" / "code")
    ap.add_argument("--no-fingerprints", action="store_true",
                    help="leave out fingerprints.json (the embedding of every item takes a while; tests)")
    args = ap.parse_args()
    build(args.src, args.out, fingerprints=not args.no_fingerprints)


if __name__ == "__main__":
    main()
