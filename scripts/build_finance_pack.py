"""Build domains/finance/ from FinanceReasoning (../shared/data/financereasoning by default).

The 2,238 items (easy/medium/hard.json) are split by *context*: items that share a context
document form one group (an empty context, ``""`` or FinanceMath's ``[]``, makes each item its
own group), and a whole group goes to one split, chosen by ``sha256("finance|" + context)``
(or of the item's ``question_id`` for an empty context) read as a number in [0, 1):
below 0.10 seeds, below 0.30 validation, the rest test. Items are copied unchanged plus an
``id`` (``fr-<question_id>``); seeds add a ``solution``: the item's ``python_solution`` as a
code block, then the task's final line with the ``ground_truth``. Seeds whose question text
equals an evaluation question's are dropped. Further seeds come from TAT-QA's test_gold
arithmetic questions (``--tatqa``; see :func:`tatqa_seeds`). Answers are normalised in code,
never here.

The skills are the topics of the symbolic finance library
(:mod:`data_agent.generators.symbolic.finance`), so the pack and the offline teacher agree.

    python scripts/build_finance_pack.py [--src ../shared/data/financereasoning]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import operator
import re
import shutil
from collections import Counter
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEVELS = ["easy", "medium", "hard"]
SEED_SHARE, VAL_SHARE = 0.10, 0.20
INPUT_LIMIT = 12_000
"""``scorer.limits.input`` (characters): above the longest evaluation input, so records
modelled on the longest contexts pass the length validator."""
TITLE = "Financial numerical reasoning over reports, tables and scenarios (FinanceReasoning)"
ATTRIBUTION = (
    "FinanceReasoning (2025, 'FinanceReasoning: Benchmarking Financial Numerical Reasoning More "
    "Credible, Comprehensive and Challenging', BUPT Reasoning Lab), github BUPT-Reasoning-Lab/FinanceReasoning @ "
    "b0fe6455396f831955e4eb988472b4a563403bc5, data/FinanceReasoning/{easy,medium,hard}.json, CC BY 4.0 "
    "(dataset card). Items unchanged apart from an added id; seeds add a solution built from the item's "
    "python_solution. Further seeds: TAT-QA (Zhu et al., 2021, 'TAT-QA: A Question Answering Benchmark on a Hybrid "
    "of Tabular and Textual Content in Finance'), github NExTplusplus/TAT-QA @ 870accc4, "
    "tatqa_dataset_test_gold.json, CC BY 4.0: arithmetic questions with the table as Markdown, a precision "
    "sentence and the derivation as the solution.")
SUBJECT_OF_SOURCE = {"CodeFinQA": "accounting", "CodeTAT-QA": "accounting", "FinCode": "accounting",
                     "FinanceReasoning": "corporate_finance", "FinanceMath": "investments"}
"""The subject each source dataset mostly asks about (the engineer's per-source table)."""


def instruction(task) -> str:
    return (
        "You are a financial expert. Answer the question, using the context when one is given: think step by "
        "step, identify the figures you need and compute the result. Give the final answer as a plain number in "
        "the unit and with the precision the question asks for (no units, no % sign, no thousands commas; a "
        "percentage as its number of percent, e.g. 12.5 for 12.5%), or True or False for a yes/no question. "
        f"Conclude with the sentence \"{task.final_line('[ANSWER]')}\"")


def is_empty_context(context: str) -> bool:
    return context.strip() in ("", "[]")


def group_key(row: dict) -> str:
    ctx = row["context"]
    return f"item|{row['question_id']}" if is_empty_context(ctx) else f"context|{ctx}"


def split_of(key: str) -> str:
    u = int(hashlib.sha256(f"finance|{key}".encode("utf-8")).hexdigest()[:12], 16) / 16**12
    return "seeds" if u < SEED_SHARE else "val" if u < SEED_SHARE + VAL_SHARE else "test"


PRECISION_SENTENCE = re.compile(
    r"\s*(?:Answer|Provide|Express|Round|Give)\b[^.?!]*\b(?:decimal places?|integer|dollar|cent|percentage|percent)"
    r"[^.?!]*\.\s*$", re.IGNORECASE)
"""The precision sentence the benchmark appends to a question ("Answer to two decimal places.")."""


def fingerprint_text(row: dict) -> str:
    """What the decontamination fingerprints cover: the context and the question without its
    precision sentence (an instruction every generated problem repeats, not content)."""
    from data_agent.tasks.numeric_tolerance import format_input

    return format_input(PRECISION_SENTENCE.sub("", row["question"].strip()), row["context"])


def arithmetic(expr: str) -> Fraction | None:
    """The exact value of a TAT-QA derivation (``(($1,271-$276)/$276) * 100``): numbers, + - * /
    and parentheses only (``$`` and thousands commas dropped), else None."""
    text = expr.replace("$", "").replace(",", "").strip()
    if not text or not re.fullmatch(r"[\d\s.()+\-*/]+", text):
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(ast.dump(node))

    try:
        return ev(tree)
    except (ValueError, ZeroDivisionError):
        return None


PRECISION_WORDS = {0: "the nearest integer", 1: "one decimal place", 2: "two decimal places", 3: "three decimal places"}


def tatqa_context(doc: dict) -> str:
    """A TAT-QA table (first row the header) as a Markdown table, then its paragraphs."""
    table = doc["table"]["table"]
    cell = lambda c: " ".join(str(c).split()) or " "  # noqa: E731
    lines = ["| " + " | ".join(cell(c) for c in table[0]) + " |", "| " + " | ".join("---" for _ in table[0]) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table[1:]]
    paras = [p["text"].strip() for p in sorted(doc["paragraphs"], key=lambda p: p["order"]) if p["text"].strip()]
    return "\n".join(lines) + ("\n\n" + "\n".join(paras) if paras else "")


def tatqa_seeds(folder: Path, task, eval_questions: set[str], hashes: set[str]) -> tuple[list[dict], dict[str, int]]:
    """Seeds from TAT-QA's test_gold arithmetic questions: the derivation is evaluated exactly, the
    gold answer's decimals become the question's precision sentence (kept only when the derivation
    rounded so gives the gold), and a question is left out when its text is an evaluation question's
    or its input shares an 8-gram with the evaluation fingerprints."""
    from data_agent.domain import ngram_hashes
    from data_agent.tasks.numeric_tolerance import format_answer

    docs = json.loads((folder / "tatqa_dataset_test_gold.json").read_text(encoding="utf-8"))
    out, why_not = [], Counter()
    for doc in docs:
        context = tatqa_context(doc)
        for q in sorted(doc["questions"], key=lambda q: q["order"]):
            if q.get("answer_type") != "arithmetic":
                continue
            gold = q["answer"]
            value = arithmetic(str(q.get("derivation") or ""))
            if isinstance(gold, bool) or not isinstance(gold, (int, float)) or value is None:
                why_not["no exact derivation"] += 1
                continue
            dp = 0 if isinstance(gold, int) or float(gold).is_integer() else len(repr(float(gold)).split(".")[1])
            if dp > 3 or gold == 0:
                why_not["precision"] += 1
                continue
            quantum = Fraction(1, 10 ** dp)
            half_up = (abs(value) / quantum + Fraction(1, 2)).__floor__() * quantum * (1 if value >= 0 else -1)
            if half_up != Fraction(str(gold)):
                why_not["gold is not the derivation rounded"] += 1
                continue
            pct = " as a percentage" if q.get("scale") == "percent" else ""
            question = f"{q['question'].strip()} Answer{pct} to {PRECISION_WORDS[dp]}."
            if q["question"].strip() in eval_questions or question in eval_questions:
                why_not["an evaluation question"] += 1
                continue
            from data_agent.tasks.numeric_tolerance import format_input

            if ngram_hashes(format_input(q["question"], context), 8) & hashes:
                why_not["shares an 8-gram with the evaluation items"] += 1
                continue
            answer = format_answer(float(Fraction(str(gold))), dp) if dp else format_answer(int(gold))
            solution = (f"{str(q['derivation']).strip()} = {float(value):.10g}\n{task.final_line(answer)}")
            out.append({"id": f"tatqa-{q['uid']}", "question": question, "context": context,
                        "ground_truth": gold, "source": "TAT-QA", "level": "", "derivation": q["derivation"],
                        "scale": q.get("scale", ""), "solution": solution})
    return out, dict(why_not)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def seed_solution(task, row: dict) -> str:
    from data_agent.tasks.numeric_tolerance import format_answer

    code = row["python_solution"].replace("\r\n", "\n").strip()
    return f"```python\n{code}\n```\n{task.final_line(format_answer(row['ground_truth']))}"


def description(counts: dict, by_source: dict, n_groups: dict, task) -> str:
    rows = "\n".join(f"| {s} | {SUBJECT_OF_SOURCE.get(s, '')} | {by_source['val'].get(s, 0)} | "
                     f"{by_source['test'].get(s, 0)} | {by_source['seeds'].get(s, 0)} |" for s in sorted(SUBJECT_OF_SOURCE))
    return f"""# finance: financial numerical reasoning (FinanceReasoning)

The student answers finance questions with a single number (or True/False): questions over
annual-report text and tables (CodeFinQA, CodeTAT-QA), short scenarios that need a finance
formula (FinanceReasoning's own items, FinCode) and CFA-style questions with small tables
(FinanceMath). The student sees the context (when there is one), a blank line and
`Question: ...`; the question says how to round ("Answer to two decimal places.", "Answer
as a percentage to three decimal places."). The reply ends with the sentence
`{task.final_line('[ANSWER]')}` where the answer is a plain number in the question's unit
(a percentage as its number of percent, an amount "in millions" as that number of millions).

Scoring: FinanceReasoning's rule, correct when |pred - gold| <= 0.002 |gold| (a gold of 0
needs exactly 0), True/False compared for equality; the answer is read from the last final
line. The task module `data_agent/tasks/numeric_tolerance.py` lists the normalisations and
every deviation from the official scorer.

Splits are by context document: items that share a context go to one split (an empty context
makes each item its own group), so no validation context appears in the test split.

| source | subject | val | test | seeds |
|---|---|---|---|---|
{rows}

Files: `val.jsonl` ({counts['val']} items in {n_groups['val']} context groups, for the data
engineer's feedback loop), `test.jsonl` ({counts['test']} items in {n_groups['test']} groups,
sealed until the final scoring), `seeds.jsonl` ({counts['seeds']} items in {n_groups['seeds']}
groups, disjoint from both, each with a worked `solution` ending with the final line:
FinanceReasoning items with their Python solution, and {by_source['seeds'].get('TAT-QA', 0)} TAT-QA test_gold arithmetic
questions with the table as Markdown, a precision sentence from the gold's decimals and the
derivation, none sharing an 8-gram with the evaluation items), `decontamination.json` (hashed word 8-grams of the evaluation questions and contexts).

Sources: {ATTRIBUTION} Licence: CC BY 4.0 (`LICENSE`).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "financereasoning")
    ap.add_argument("--out", type=Path, default=ROOT / "domains" / "finance")
    ap.add_argument("--tatqa", type=Path, default=ROOT.parent / "shared" / "data" / "tatqa",
                    help="TAT-QA's folder (tatqa_dataset_test_gold.json) for more seeds; '' for none")
    ap.add_argument("--tokenizer", type=Path, default=None,
                    help="a tokenizer folder (e.g. the student's); prints the evaluation inputs' token lengths")
    ap.add_argument("--no-fingerprints", action="store_true",
                    help="leave out fingerprints.json (the embedding of every item takes minutes; tests)")
    args = ap.parse_args()
    src, out = args.src, args.out
    if args.tatqa is not None and not str(args.tatqa).strip(".").strip():
        args.tatqa = None
    out.mkdir(parents=True, exist_ok=True)

    from data_agent.domain import ngram_hashes, sha256_file
    from data_agent.generators import symbolic
    from data_agent.tasks import get_task
    from data_agent.tasks.numeric_tolerance import format_input, source_group

    scorer = {"kind": "numeric_tolerance", "rel_tol": 0.002, "limits": {"input": INPUT_LIMIT}}
    task = get_task("numeric_tolerance", scorer)

    items = []
    for level in LEVELS:
        items += json.loads((src / f"{level}.json").read_text(encoding="utf-8"))
    parts: dict[str, list[dict]] = {"seeds": [], "val": [], "test": []}
    groups: dict[str, set[str]] = {k: set() for k in parts}
    for d in sorted(items, key=lambda r: (hashlib.sha256(group_key(r).encode()).hexdigest(), r["question_id"])):
        key = group_key(d)
        split = split_of(key)
        groups[split].add(key)
        parts[split].append({"id": f"fr-{d['question_id']}", **d})

    eval_rows = parts["val"] + parts["test"]
    eval_questions = {r["question"].strip() for r in eval_rows}
    dropped = [s for s in parts["seeds"] if s["question"].strip() in eval_questions]
    seeds = [{**s, "solution": seed_solution(task, s)} for s in parts["seeds"] if s not in dropped]
    val, test = parts["val"], parts["test"]

    # Decontamination fingerprints: hashed word 8-grams of every evaluation input (context and question,
    # without the question's precision sentence), minus those the FinanceReasoning seeds share
    # (boilerplate such as table headers and report phrases).
    eval_hashes = set().union(*(ngram_hashes(fingerprint_text(r), 8) for r in eval_rows))
    seed_hashes = set().union(*(ngram_hashes(fingerprint_text(s), 8) for s in seeds))
    hashes = sorted(eval_hashes - seed_hashes)
    print(f"decontamination: {len(eval_hashes)} evaluation 8-grams, {len(eval_hashes & seed_hashes)} shared "
          f"with seeds left out")
    tatqa, why_not = tatqa_seeds(args.tatqa, task, eval_questions, set(hashes)) if args.tatqa else ([], {})
    print(f"TAT-QA seeds: {len(tatqa)} kept; left out: " + (", ".join(f"{k} {v}" for k, v in sorted(why_not.items()))
                                                         or "none"))
    seeds += tatqa

    ids = [r["id"] for r in val + test + seeds]
    assert len(ids) == len(set(ids)), "item ids are not unique"
    ctx = {k: {r["context"] for r in rows if not is_empty_context(r["context"])}
           for k, rows in (("val", val), ("test", test), ("seeds", seeds))}
    assert not (ctx["val"] & ctx["test"]) and not (ctx["seeds"] & (ctx["val"] | ctx["test"])), "a context crosses splits"
    for r in val + test + seeds:
        task.item(r)  # every row reads with the task
    for s in seeds:
        assert not task.final_line_error(s["solution"]), (s["id"], task.final_line_error(s["solution"]))
        assert task.is_correct(s["solution"], task.item(s)), s["id"]

    write_jsonl(out / "val.jsonl", val)
    write_jsonl(out / "test.jsonl", test)
    write_jsonl(out / "seeds.jsonl", seeds)
    shutil.copyfile(src / "CC-BY-4.0.txt", out / "LICENSE")

    (out / "decontamination.json").write_text(json.dumps({"n": 8, "hashes": hashes}) + "\n", encoding="utf-8")

    instr = instruction(task)
    short = sorted(seeds, key=lambda s: (len(s["context"]) + len(s["question"]) + len(s["solution"]), s["id"]))
    picks = [short[0], short[len(short) // 3], short[2 * len(short) // 3]]
    sample = [{"instruction": instr, "input": format_input(s["question"], s["context"]), "output": s["solution"]}
              for s in picks]
    (out / "sample_submission.json").write_text(json.dumps(sample, indent=2, ensure_ascii=False) + "\n",
                                                encoding="utf-8")

    counts = {"val": len(val), "test": len(test), "seeds": len(seeds)}
    by_source = {k: Counter(source_group(r["source"]) for r in rows)
                 for k, rows in (("val", val), ("test", test), ("seeds", seeds))}
    n_groups = {k: len({group_key(r) for r in rows}) for k, rows in (("val", val), ("test", test), ("seeds", seeds))}
    (out / "description.md").write_text(description(counts, by_source, n_groups, task), encoding="utf-8")

    skills = []
    for topic, names in sorted(symbolic.topics("finance").items()):
        ts = [symbolic.TEMPLATES[n] for n in names]
        skills.append({"name": topic, "subject": ts[0].subject,
                       "description": "; ".join(sorted({(t.__doc__ or t.name).strip().splitlines()[0].rstrip(".")
                                                        for t in ts})),
                       "sources": sorted({s for t in ts for s in t.sources}
                                         | ({"TAT-QA"} if any("CodeTAT-QA" in t.sources for t in ts) else set()))})
    assert skills, "the symbolic finance library has no templates"

    files = {name: sha256_file(out / name) for name in
             ["val.jsonl", "test.jsonl", "seeds.jsonl", "sample_submission.json", "description.md", "LICENSE",
              "decontamination.json"]}
    manifest = {
        "name": "finance", "title": TITLE, "instruction": instr, "description": "description.md",
        "license": "LICENSE", "license_name": "CC-BY-4.0", "attribution": ATTRIBUTION, "scorer": scorer,
        "splits": {"val": "val.jsonl", "test": "test.jsonl"}, "seeds": "seeds.jsonl",
        "sample_submission": "sample_submission.json", "decontamination": {"file": "decontamination.json", "n": 8},
        "sources": SUBJECT_OF_SOURCE, "skills": skills, "files": files, "counts": counts,
    }
    (out / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not args.no_fingerprints:
        from data_agent.packs import write_fingerprints

        n = write_fingerprints(out)
        print(f"fingerprints.json: {n['val']} validation and {n['test']} test items")
    print(f"val={len(val)} ({n_groups['val']} groups) test={len(test)} ({n_groups['test']} groups) "
          f"seeds={len(seeds)} ({n_groups['seeds']} groups, {len(dropped)} dropped for a shared question) -> {out}")
    for k in ("val", "test", "seeds"):
        print(f"  {k}: " + ", ".join(f"{s} {n}" for s, n in sorted(by_source[k].items())))
    longest = max(len(format_input(r["question"], r["context"])) for r in eval_rows)
    print(f"longest evaluation input: {longest} characters (scorer.limits.input = {INPUT_LIMIT})")
    hashes_set = set(hashes)
    names = sorted(n for ns in symbolic.topics("finance").values() for n in ns)
    probs = [symbolic.generate(t, seed, d) for t in names for d in (1, 2, 3) for seed in range(10)]
    hit = sum(bool(ngram_hashes(p.problem, 8) & hashes_set) for p in probs)
    print(f"symbolic problems (10 seeds x 3 difficulties per template) sharing an 8-gram with the fingerprints: "
          f"{hit} of {len(probs)}")
    if args.tokenizer is not None:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(args.tokenizer))
        lens = sorted(len(tok(format_input(r["question"], r["context"]))["input_ids"]) for r in eval_rows)
        pct = {p: lens[min(len(lens) - 1, int(p / 100 * len(lens)))] for p in (50, 90, 99)}
        print(f"evaluation input tokens: median {pct[50]}, p90 {pct[90]}, p99 {pct[99]}, max {lens[-1]}; "
              f"{sum(n > 1024 for n in lens)} of {len(lens)} over 1024, {sum(n > 640 for n in lens)} over 640")


if __name__ == "__main__":
    main()
