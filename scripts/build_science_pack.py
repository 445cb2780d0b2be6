"""Build domains/science/ from SciBench (../shared/data/scibench by default).

The 580 textbook problems are split deterministically, stratified by source book,
into about 1/4 validation and 3/4 test: within each book, problems are ranked by
sha256(source | problemid | problem_text) and the first round(n/4) go to
validation. The 112 worked-solution problems become the seeds. Items are copied
unchanged (plus an ``id``); answers are normalised in code, never here.

    python scripts/build_science_pack.py [--src ../shared/data/scibench]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOKS = ["atkins", "chemmc", "quan", "matter", "thermo", "fund", "class", "calculus", "diff", "stat"]
INSTRUCTION = (
    "Please provide a clear and step-by-step solution for a scientific problem in the categories of "
    "Chemistry, Physics, or Mathematics. The problem will specify the unit of measurement, which should "
    "not be included in the answer. Express the final answer as a decimal number with three digits after "
    "the decimal point. Conclude the answer by stating \"The answer is therefore \\boxed{[ANSWER]}.\""
)


def item_hash(d: dict) -> str:
    key = "|".join([d["source"].strip(), d["problemid"].strip(), d["problem_text"].strip()])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "scibench")
    ap.add_argument("--out", type=Path, default=ROOT / "domains" / "science")
    args = ap.parse_args()
    src, out = args.src, args.out
    out.mkdir(parents=True, exist_ok=True)

    val, test, seeds = [], [], []
    for book in BOOKS:
        items = json.loads((src / f"{book}.json").read_text(encoding="utf-8"))
        ranked = sorted(items, key=item_hash)
        n_val = round(len(ranked) / 4)
        for i, d in enumerate(ranked):
            row = {"id": f"{d['source'].strip()}-{item_hash(d)[:10]}", **d}
            (val if i < n_val else test).append(row)
        for j, d in enumerate(json.loads((src / f"{book}_sol.json").read_text(encoding="utf-8"))):
            seeds.append({"id": f"seed-{book}-{j:03d}", **d})

    texts = {r["problem_text"].strip() for r in val + test}
    assert not any(s["problem_text"].strip() in texts for s in seeds), "seeds overlap the evaluation problems"
    ids = [r["id"] for r in val + test + seeds]
    assert len(ids) == len(set(ids)), "item ids are not unique"

    write_jsonl(out / "val.jsonl", val)
    write_jsonl(out / "test.jsonl", test)
    write_jsonl(out / "seeds.jsonl", seeds)
    shutil.copyfile(src / "LICENSE", out / "LICENSE")

    # Decontamination fingerprints: hashed word 8-grams of every evaluation problem,
    # so validators can reject overlapping training data without reading the sealed split.
    from data_agent.domain import build_fingerprints, fingerprints_json, sha256_file

    # N-grams the evaluation problems share with the seeds are book boilerplate ("Assume all gases are
    # perfect unless stated otherwise..."): the seeds are legitimate teacher context, so those are left out.
    fp = build_fingerprints([r["problem_text"] for r in val + test], [s["problem_text"] for s in seeds], 8)
    print(f"decontamination: {len(fp['hashes']) + fp['shared_with_seeds']} evaluation 8-grams, "
          f"{fp['shared_with_seeds']} shared with seeds left out")
    (out / "decontamination.json").write_text(fingerprints_json(fp), encoding="utf-8")

    # A sample submission in the exact format: three seeds with their worked solutions.
    from data_agent.tasks.boxed_numeric import BoxedNumeric, format_answer, format_problem, normalise_number

    task = BoxedNumeric()

    sample = []
    for s in [seeds[0], seeds[len(seeds) // 2], seeds[-1]]:
        value = normalise_number(s["answer_number"])
        sol = s["solution"].replace("\r\n", "\n").strip()
        sample.append({
            "instruction": INSTRUCTION,
            "input": format_problem(s["problem_text"], s["unit"]),
            "output": f"{sol}\n{task.final_line(format_answer(value))}",
        })
    (out / "sample_submission.json").write_text(json.dumps(sample, indent=2, ensure_ascii=False) + "\n",
                                                encoding="utf-8")

    files = {name: sha256_file(out / name) for name in
             ["val.jsonl", "test.jsonl", "seeds.jsonl", "sample_submission.json", "description.md", "LICENSE",
              "decontamination.json"]
             if (out / name).exists()}
    manifest = json.loads((out / "pack.json").read_text(encoding="utf-8")) if (out / "pack.json").exists() else {}
    manifest["files"] = files
    manifest["counts"] = {"val": len(val), "test": len(test), "seeds": len(seeds)}
    (out / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"val={len(val)} test={len(test)} seeds={len(seeds)} -> {out}")
    from data_agent.packs import write_fingerprints

    n = write_fingerprints(out)
    print(f"fingerprints.json: {n['val']} validation and {n['test']} test items")


if __name__ == "__main__":
    main()
