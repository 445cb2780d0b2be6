"""Throughput of the whole validator pipeline: records/s on 10,000 records, and where the time goes.

Makes ``--records`` records from the domain's symbolic templates (a tenth of
them near repeats of earlier ones, so the near-duplicate index is exercised),
then runs :func:`data_agent.validators.default_pipeline` over them the way a
run does: batches of 64 (one teacher batch), :meth:`Pipeline.prepare` (the
embeddings) then :meth:`Pipeline.check` for each record. Prints records/s,
seconds per validator, and the rejections by kind.

    python scripts/bench_validators.py [--domain science] [--records 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import defaultdict

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domain", default="science")
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    from data_agent.domain import load_domain
    from data_agent.generators.symbolic import generate, templates_for
    from data_agent.records import Record
    from data_agent.validators import default_pipeline

    dom = load_domain(a.domain)
    rng = random.Random(a.seed)
    temps = [t.name for t in templates_for(domain=dom.name)]
    t0 = time.perf_counter()
    recs: list[Record] = []
    while len(recs) < a.records:
        if recs and rng.random() < 0.1:  # a near repeat: an earlier input with one word dropped
            src = rng.choice(recs)
            words = src.input.split()
            del words[rng.randrange(len(words))]
            recs.append(Record(instruction=src.instruction, input=" ".join(words), output=src.output,
                               answer=src.answer, id=f"r{len(recs)}"))
            continue
        p = generate(temps[len(recs) % len(temps)], rng.randrange(10**9), rng.randint(1, 3))
        inp, out, ans = dom.task.record_fields(p.to_dict())
        recs.append(Record(instruction=dom.instruction, input=inp, output=out, answer=ans, id=f"r{len(recs)}"))
    made = time.perf_counter() - t0
    print(f"{dom.name}: {len(recs)} records from {len(temps)} symbolic templates (made in {made:.1f} s, not "
          f"counted); batches of {a.batch}", flush=True)

    pipe = default_pipeline(dom)
    spent: dict[str, float] = defaultdict(float)
    for v in pipe.validators:  # time each validator's check (and prepare) in place
        for meth in ("check", "prepare"):
            f = getattr(v, meth, None)
            if f is None:
                continue

            def timed(*args, _f=f, _name=v.name, **kw):
                s = time.perf_counter()
                try:
                    return _f(*args, **kw)
                finally:
                    spent[_name] += time.perf_counter() - s
            setattr(v, meth, timed)
    from data_agent.embeddings import load_embedder

    s = time.perf_counter()
    load_embedder()
    load_s = time.perf_counter() - s
    t0 = time.perf_counter()
    for b in range(0, len(recs), a.batch):
        batch = recs[b:b + a.batch]
        pipe.prepare(batch)
        for r in batch:
            pipe.check(r)
        if (b // a.batch) % 40 == 0:
            print(f"  {b + len(batch)}/{len(recs)} after {time.perf_counter() - t0:.0f} s", flush=True)
    wall = time.perf_counter() - t0
    summ = pipe.summary()
    print(f"pipeline: {len(recs)} records in {wall:.1f} s = {len(recs) / wall:.0f} records/s "
          f"(embedding model loaded once before, {load_s:.1f} s); accepted {summ['accepted']}")
    for name, sec in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:22s} {sec:7.2f} s  {sec / wall:5.1%}")
    print("rejections: " + (", ".join(f"{k} {n}" for k, n in summ["rejected_by_kind"].items()) or "none"))


if __name__ == "__main__":
    main()
