"""Scoring speed: our decoder vs plain ``model.generate``, on the same problems and model.

Decodes the same problems (80 of the pack's validation split by default, the
deterministic source-stratified subset; the test split is never read) with the
same prompts, greedy decoding, token limit and batch size, side by side in one
run, and prints per arm the wall time, the decode tokens/s and the scores:

* ``generate``: ``model.generate`` with a StoppingCriteria that decodes every
  sequence's tail at every step and stops the batch once every sequence has
  written its answer line, in batches of 16 (the scoring path before the speed
  work), fp32;
* ``ours``: :func:`data_agent.trainers.evaluate.generate_outputs` as shipped
  (finished and looping sequences leave the batch; bf16 where native).

It also counts the problems whose score differs between the arms (the early
loop stop must change none).

    python scripts/bench_eval.py [--domain science] [--n 80] [--model smollm2-135m] [--max-new-tokens 224]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def plain_generate(model_path, prompts, instruction, task, max_new_tokens, batch_size) -> tuple[list[str], int]:
    """The earlier scoring path: ``model.generate`` with a per-step tail-decoding stop."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    from data_agent.models import load_model, load_tokenizer
    from data_agent.trainers.sft import to_conversation

    tok = load_tokenizer(model_path)
    tok.padding_side = "left"
    model = load_model(model_path).eval()
    texts = [tok.apply_chat_template(to_conversation(instruction, p)["prompt"], tokenize=False,
                                     add_generation_prompt=True) for p in prompts]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
    outputs, tokens = [""] * len(texts), 0

    class AnswerDone(StoppingCriteria):
        def __init__(self, start):
            self.start = start

        def __call__(self, input_ids, scores, **kw):
            tails = tok.batch_decode(input_ids[:, max(self.start, input_ids.shape[1] - 48):], skip_special_tokens=True)
            return torch.tensor([task.finished(t) for t in tails], device=input_ids.device)

    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            batch = tok([texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
            start = batch["input_ids"].shape[1]
            gen = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False, temperature=None,
                                 top_p=None, top_k=None, pad_token_id=tok.pad_token_id,
                                 stopping_criteria=StoppingCriteriaList([AnswerDone(start)]))
            for j, i in enumerate(idx):
                new = gen[j, start:].tolist()
                tokens += sum(1 for t in new if t != tok.pad_token_id)
                outputs[i] = tok.decode(new, skip_special_tokens=True).strip()
    return outputs, tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domain", default="science")
    ap.add_argument("--n", type=int, default=80)
    ap.add_argument("--model", default="smollm2-135m", help="a student name or a model directory (e.g. a run's "
                                                            "iter-NN/model)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: the cpu preset's")
    ap.add_argument("--batch-size", type=int, default=None, help="default: the cpu preset's")
    ap.add_argument("--generate-batch-size", type=int, default=16,
                    help="batch size of the generate arm (default 16: the earlier scoring path's)")
    ap.add_argument("--arms", default="generate,ours")
    a = ap.parse_args()

    from data_agent.config import PRESETS
    from data_agent.domain import load_domain
    from data_agent.models import native_bf16, resolve_student
    from data_agent.trainers.evaluate import generate_outputs, score_outputs

    preset = PRESETS["cpu"]().eval
    max_new = a.max_new_tokens or preset.max_new_tokens
    bs = a.batch_size or preset.batch_size
    dom = load_domain(a.domain)
    items = dom.val_items(a.n)
    path = resolve_student(a.model)
    prompts = [i.input for i in items]
    print(f"{dom.name}: {len(items)} validation problems, model {a.model}, max_new_tokens={max_new}, batch={bs} "
          f"(generate: {a.generate_batch_size}), "
          f"{os.cpu_count()} cores, bf16 {'native' if native_bf16() else 'not native here (fp32)'}", flush=True)
    results = {}
    for arm in [x.strip() for x in a.arms.split(",") if x.strip()]:
        t0 = time.perf_counter()
        if arm == "generate":
            outs, tokens = plain_generate(path, prompts, dom.instruction, dom.task, max_new, a.generate_batch_size)
            stats = {}
        elif arm in ("ours", "ours-no-loop-stop"):
            stats = {}
            outs = generate_outputs(path, prompts, dom.instruction, dom.task, max_new_tokens=max_new, batch_size=bs,
                                    stop_loops=arm == "ours", stats=stats)
            tokens = stats["tokens"]
        else:
            raise SystemExit(f"unknown arm {arm!r} (known: generate, ours, ours-no-loop-stop)")
        wall = time.perf_counter() - t0
        m, rows = score_outputs(items, dict(zip([i.id for i in items], outs)), dom.task)
        results[arm] = (wall, rows)
        stops = ", ".join(f"{k} {stats[k]}" for k in ("answer", "eos", "loop", "limit") if k in stats)
        print(f"  {arm:18s} {wall:7.1f} s  {tokens / wall:7.1f} new tokens/s ({tokens} tokens)  accuracy "
              f"{m.accuracy:.3f}  format {m.format_compliance:.3f}" + (f"  stops: {stops}" if stops else ""),
              flush=True)
    if "generate" in results:
        base_wall, base_rows = results["generate"]
        for arm, (wall, rows) in results.items():
            if arm == "generate":
                continue
            diff = sum(1 for x, y in zip(base_rows, rows)
                       if (x["correct"], x["formatted"]) != (y["correct"], y["formatted"]))
            same = sum(1 for x, y in zip(base_rows, rows) if x["output"] == y["output"])
            print(f"speed ratio {arm}/generate = {base_wall / wall:.2f}x; problems scored differently: {diff} of "
                  f"{len(rows)}; identical outputs: {same} of {len(rows)}")


if __name__ == "__main__":
    main()
