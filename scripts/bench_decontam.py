"""Decontamination recall and false positives on planted contamination, and its speed against a naive scan.

Plants contamination of the pack's **validation** problems (the test split is
never read; the pack's fingerprints treat both splits alike) into records, and
runs the shipped decontamination check (:class:`data_agent.validators.ContaminationValidator`
with the pack's thresholds and ``fingerprints.json``) over them and over a
clean pool. Printed per kind: how many records it rejects.

Planted kinds, each made from every validation problem:

* ``exact``: the problem as the record's input;
* light edits: ``numbers`` (every number changed), ``inserted`` (a word
  inserted every 10 words), ``deleted`` (every 10th word dropped), ``swapped``
  (a pair of neighbouring words swapped every 10 words), ``mixed`` (numbers
  changed, and a word inserted, one deleted and a pair swapped every 20);
* ``reworded``: reworded by rule: sentences in another order, phrasing
  swapped for synonyms ("calculate" -> "compute", "assume" -> "suppose"...).
  Mechanical, and they keep most 3-grams;
* ``paraphrase``: written by hand, meaning kept, wording and order changed
  (``scripts/data/<domain>_paraphrases.jsonl``, 24 validation problems of the
  science pack); a domain without that file skips this kind. The paraphrase
  thresholds were chosen on this same set and the clean pool (there is no
  second hand-written set to confirm them on);
* ``quoted``: a clean record whose *solution* quotes the problem.

Clean pool: records of the domain's symbolic templates (every template,
several seeds and difficulties); their rejections are the false positives.
The pack's seed problems are counted separately: real problems from the same
books, disjoint from the evaluation splits by id and text, yet some are the
same exercise with other numbers (the examples printed show which).

The speed arm compares the check with a naive scan: rapidfuzz's
``fuzz.partial_ratio`` of each record's input and output against every
validation problem's text (the naive scan needs the text; the check needs only
the fingerprints), over the same records, with the scan's recall at a score of
90 for reference.

    python scripts/bench_decontam.py [--domain science] [--clean 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILLERS = ["indeed", "now", "here", "then", "also", "still", "just", "really", "again", "so"]
SYNONYMS = [
    (r"\bcalculate\b", "compute"), (r"\bCalculate\b", "Compute"), (r"\bdetermine\b", "find"),
    (r"\bDetermine\b", "Find"), (r"\bestimate\b", "approximate"), (r"\bEstimate\b", "Approximate"),
    (r"\bassume\b", "suppose"), (r"\bAssume\b", "Suppose"), (r"\bsuppose\b", "assume"),
    (r"\bSuppose\b", "Assume"), (r"\bconsider\b", "take"), (r"\bConsider\b", "Take"),
    (r"\bgiven that\b", "knowing that"), (r"\bunless otherwise stated\b", "unless stated otherwise"),
    (r"\bapproximately\b", "roughly"), (r"\bthe value of\b", "the amount of"), (r"\bobtain\b", "get"),
    (r"\brequired\b", "needed"), (r"\bmust\b", "has to"), (r"\bsample\b", "specimen"),
    (r"\bexpression\b", "formula"), (r"\bfunction\b", "map"), (r"\bfollowing\b", "next"),
    (r"\bshow\b", "demonstrate"), (r"\bcompletely\b", "fully"), (r"\binitially\b", "at first"),
    (r"\bfinal\b", "last"), (r"\bspeed\b", "velocity"), (r"\bobject\b", "body"), (r"\bparticle\b", "body"),
    (r"\bprobability\b", "chance"), (r"\bWhat is\b", "Find"), (r"\bwhat is\b", "find"),
    (r"\bHow much\b", "What amount of"), (r"\bHow many\b", "What number of"),
]


def _words(text):
    return text.split()


def change_numbers(text, rng):
    def new(m):
        s = m.group(0)
        digits = [c for c in s if c.isdigit()]
        out = "".join(str((int(c) + rng.randint(1, 8)) % 10) if c.isdigit() else c for c in s)
        return out if out != s or not digits else out.replace(digits[0], str((int(digits[0]) + 1) % 10), 1)
    return re.sub(r"\d+(?:\.\d+)?", new, text)


def insert_words(text, rng, every=10):
    w, out = _words(text), []
    for i, x in enumerate(w):
        out.append(x)
        if i % every == every // 2:
            out.append(rng.choice(FILLERS))
    return " ".join(out)


def delete_words(text, rng, every=10):
    w = _words(text)
    start = rng.randrange(every)
    return " ".join(x for i, x in enumerate(w) if (i - start) % every != 0 or len(w) < 4)


def swap_words(text, rng, every=10):
    w = _words(text)
    for i in range(rng.randrange(every), len(w) - 1, every):
        w[i], w[i + 1] = w[i + 1], w[i]
    return " ".join(w)


def mixed(text, rng):
    return swap_words(delete_words(insert_words(change_numbers(text, rng), rng, 20), rng, 20), rng, 20)


def paraphrase(text, rng):
    out = text
    for pat, rep in SYNONYMS:
        out = re.sub(pat, rep, out)
    # sentences in another order: the question first, the rest rotated
    parts = [p for p in re.split(r"(?<=[.?!])\s+(?=[A-Z$\\])", out) if p.strip()]
    if len(parts) > 1:
        q = parts.pop()
        k = rng.randrange(len(parts))
        parts = [q] + parts[k:] + parts[:k]
        out = " ".join(parts)
    return out


EDITS = {"exact": lambda t, rng: t, "numbers": change_numbers, "inserted": insert_words, "deleted": delete_words,
         "swapped": swap_words, "mixed": mixed, "reworded": paraphrase}


def symbolic_records(domain, n, seed=0):
    from data_agent.generators.symbolic import generate, templates_for

    rng = random.Random(seed)
    temps = [t.name for t in templates_for(domain=domain.name)]
    out = []
    while len(out) < n:
        t = temps[len(out) % len(temps)]
        p = generate(t, rng.randrange(10**6), rng.randint(1, 3))
        inp, outp, _ = domain.task.record_fields(p.to_dict())
        out.append((inp, outp))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domain", default="science")
    ap.add_argument("--clean", type=int, default=1000, help="symbolic records in the clean pool")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-speed", action="store_true", help="skip the naive-scan speed comparison")
    a = ap.parse_args()

    from data_agent.domain import load_domain
    from data_agent.records import Record
    from data_agent.validators import ContaminationValidator, contamination_validator

    dom = load_domain(a.domain)
    check = contamination_validator(dom)
    if check is None:
        raise SystemExit(f"{dom.name}: the pack has no fingerprints.json (decontamination.fingerprints)")
    items = dom.val_items()
    rng = random.Random(a.seed)
    clean = symbolic_records(dom, a.clean, a.seed)
    seeds = [dom.task.seed_view(s) for s in dom.seeds()]

    def rec(inp, out="The answer follows."):
        return Record(instruction=dom.instruction, input=inp, output=out)

    kinds: dict[str, list[Record]] = {k: [rec(f(it.input, rng)) for it in items] for k, f in EDITS.items()}
    hand = Path(__file__).parent / "data" / f"{dom.name}_paraphrases.jsonl"
    if hand.is_file():
        rows = [json.loads(line) for line in hand.read_text(encoding="utf-8").splitlines() if line.strip()]
        known = {it.id for it in items}
        kinds["paraphrase"] = [rec(r["paraphrase"]) for r in rows if r["id"] in known]
    kinds["quoted"] = [rec(clean[i % len(clean)][0], f"We restate the problem: {it.input} "
                                                     f"{clean[i % len(clean)][1]}") for i, it in enumerate(items)]
    kinds["clean: symbolic"] = [rec(i, o) for i, o in clean]
    kinds["seeds"] = [rec(s["problem"], s.get("solution") or "The answer follows.") for s in seeds]
    planted = [k for k in kinds if not k.startswith("clean")]
    print(f"{dom.name}: {len(items)} validation problems planted as {', '.join(planted)}; clean pool {len(clean)} "
          f"symbolic records and {len(seeds)} seed problems; thresholds: containment {check.containment:.0%}, "
          f"paraphrase {check.paraphrase}; {len(check.fp)} fingerprinted items", flush=True)
    everything = [r for rs in kinds.values() for r in rs]
    t0 = time.perf_counter()
    check.prepare(everything)
    verdicts = {k: [check.check(r) for r in rs] for k, rs in kinds.items()}
    ours = time.perf_counter() - t0
    for k, vs in verdicts.items():
        bad = sum(not v.ok for v in vs)
        what = {"clean: symbolic": "false positives", "seeds": "rejected"}.get(k, "recall")
        print(f"  {k:16s} {what:15s} {bad / len(vs):.3f} ({bad} of {len(vs)} rejected)")
        if k in ("clean: symbolic", "seeds"):
            for r, v in [(r, v) for r, v in zip(kinds[k], vs) if not v.ok][:3]:
                print(f"      e.g. {v.reason}: {r.input[:90]!r}")
    print(f"  check time: {ours:.1f} s for {len(everything)} records ({len(everything) / ours:.0f} records/s, "
          f"embedding included)")
    if a.no_speed:
        return
    from rapidfuzz import fuzz

    texts = [it.input for it in items]
    val_only = ContaminationValidator(check.fp.subset("val"), check.containment, check.paraphrase)
    t0 = time.perf_counter()
    val_only.prepare(everything)
    for r in everything:
        val_only.check(r)
    ours_val = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = {k: [max(max(fuzz.partial_ratio(r.input, t), fuzz.partial_ratio(r.output, t)) for t in texts) >= 90
                 for r in rs] for k, rs in kinds.items()}
    naive_s = time.perf_counter() - t0
    print(f"speed, against the {len(texts)} validation problems: ours {ours_val:.1f} s, naive partial_ratio scan "
          f"{naive_s:.1f} s: {naive_s / ours_val:.1f}x faster")
    print("  naive scan at score 90: " + ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in naive.items()))


if __name__ == "__main__":
    main()
