#!/usr/bin/env python
"""Generation with a local transformers teacher (``hf:``) on this machine.

Runs what one iteration of ``data-agent specialize --teacher hf:MODEL`` runs to
produce its records: the heuristic engineer's first plan for ``--records``
records, the LLM generation path (compact prompt, grammar-constrained JSON
when xgrammar is installed), the validators, and the top-up until the plan is
filled or the request budget (``--factor`` x records) runs out. Prints the wall
time, seconds per teacher request, the share of requests that became accepted
records, and the rejections by validator (``answer_agreement``: the boxed
number and ``answer`` differ; ``teacher_reply``: a truncated or unparsable
reply). Nothing is cached, so every request is decoded.

    python scripts/bench_hf_teacher.py [--model smollm2-135m] [--records 32] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="smollm2-135m", help="hf: model (as in --teacher hf:MODEL)")
    ap.add_argument("--records", type=int, default=32, help="records the plan asks for")
    ap.add_argument("--batch-size", type=int, default=None, help="sequences decoded together (backend default)")
    ap.add_argument("--factor", type=float, default=3.0, help="request budget = factor x records")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from data_agent.domain import load_domain
    from data_agent.engineer.heuristic import EngineerContext, HeuristicEngineer
    from data_agent.generators.generate import QuantityError, generate_for_plan
    from data_agent.generators.engine.llm_session import LLMSession
    from data_agent.validators import default_pipeline

    domain = load_domain("science")
    spec = f"hf:{args.model}"
    options = {} if args.batch_size is None else {"batch_size": args.batch_size}
    with tempfile.TemporaryDirectory(prefix="bench-hf-") as tmp, \
            LLMSession(spec, domain, Path(tmp) / "run", use_cache=False, teacher_options=options) as session:
        ctx = EngineerContext(domain_name=domain.name, domain_description=domain.description, teacher=spec,
                              n_records=args.records, iteration=1, topics=session.topics(),
                              source_subject=domain.manifest.get("sources", {}))
        plan = HeuristicEngineer().plan(ctx)
        pipeline = default_pipeline(domain)
        print(f"{spec}: {args.records} records over {len(plan.allocations)} topics, batch size "
              f"{session.teacher.batch_size}, structured decoding {'on' if session.teacher.structured else 'off'}",
              flush=True)
        t0 = time.perf_counter()
        error = None
        try:
            res = generate_for_plan(plan, domain, teacher_name=spec, call=session.call, build=session.build,
                                    pipeline=pipeline, pool_path=Path(tmp) / "pool.jsonl", run_seed=args.seed,
                                    max_requests=int(args.records * args.factor),
                                    progress=lambda done, total: print(f"  {done}/{total} records", flush=True))
            accepted, requests = len(res.records), res.requests
        except QuantityError as e:
            error = str(e)
            requests = session.usage()["requests"]
            accepted = pipeline.accepted
        seconds = time.perf_counter() - t0
        usage = session.usage()
    summary = pipeline.summary()
    results = {"model": spec, "records_wanted": args.records, "accepted": accepted, "requests": requests,
               "seconds": round(seconds, 1), "seconds_per_request": round(seconds / max(1, requests), 2),
               "accepted_per_request": round(accepted / max(1, requests), 3),
               "rejected_by_reason": summary.get("rejected_by_reason", {}),
               "completion_tokens": usage["completion_tokens"], "prompt_tokens": usage["prompt_tokens"],
               "filled": error is None}
    print()
    print(f"{accepted} of {args.records} records from {requests} requests in {seconds:.0f} s "
          f"({results['seconds_per_request']:.1f} s per request, {results['accepted_per_request']:.0%} accepted)")
    print(f"rejections: {results['rejected_by_reason']}")
    if error:
        print(f"not filled: {error}")
    print("RESULTS " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
