"""Evaluation runs: batched greedy decoding of the student, then scoring.

Batches are sorted by prompt length and left-padded; a sequence leaves its batch
as soon as it has finished its answer line (the task's
:meth:`~data_agent.tasks.Task.finished`), emitted EOS or started looping
(:mod:`data_agent.trainers.decode`). Scoring is the task's rule
(:mod:`data_agent.tasks`), shared with the validators.
"""

from __future__ import annotations

import hashlib
import math
import json
from pathlib import Path
from typing import Callable

from ..domain import iter_jsonl
from ..errors import DataAgentError
from ..records import EvalItem, atomic_write_text
from ..stats import ItemScore, Metrics, summarise
from ..tasks import Task
from .sft import to_conversation
from ..config import home_dir
from ..models import eos_token_ids, load_model, load_tokenizer, native_bf16
from .decode import cpu_workers, decode_batches

def generate_outputs(model_path: Path | str, prompts: list[str], instruction: str, task: Task,
                     max_new_tokens: int = 256, batch_size: int = 16, bf16: bool = True, stop_loops: bool = True,
                     backend: str = "hf", progress_cb: Callable[[int], None] | None = None,
                     stats: dict | None = None) -> list[str]:
    """Greedy outputs for ``prompts`` (the records' ``input``), in input order.

    ``backend="hf"``: :func:`~data_agent.trainers.decode.greedy_decode` with
    transformers (a sequence stops once ``task`` says it has written its answer
    line, or once it loops), in bfloat16 where ``bf16`` and the hardware has it
    natively. ``backend="vllm"``: the same prompts, limit and stop rule through
    vLLM (:mod:`data_agent.trainers.vllm_eval`)."""
    import torch

    tok = load_tokenizer(model_path)
    texts = [tok.apply_chat_template(to_conversation(instruction, p)["prompt"], tokenize=False,
                                     add_generation_prompt=True) for p in prompts]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    if backend == "vllm":
        from transformers import GenerationConfig

        from .vllm_eval import vllm_outputs

        try:
            gen_cfg = GenerationConfig.from_pretrained(str(model_path))
        except OSError:
            gen_cfg = None
        ids = vllm_outputs(model_path, enc, max_new_tokens=max_new_tokens, tok=tok, finished=task.finished,
                           eos=eos_token_ids(gen_cfg, tok), stop_loops=stop_loops, stats=stats)
        if progress_cb:
            progress_cb(len(prompts))
        return [tok.decode(x, skip_special_tokens=True).strip() for x in ids]
    if backend != "hf":
        raise DataAgentError(f"unknown eval backend {backend!r} (expected 'hf' or 'vllm')")
    model = load_model(model_path, dtype=torch.bfloat16 if bf16 and native_bf16() else torch.float32)
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
    if torch.cuda.is_available():
        model.to("cuda")
        workers, threads = 1, torch.get_num_threads()
    else:
        workers, threads = cpu_workers(math.ceil(len(order) / batch_size))
    # one length-sorted share per worker (every workers-th prompt: similar lengths in each), decoded at most
    # batch_size rows at a time, finished rows replaced by waiting prompts
    groups = [order[k::workers] for k in range(workers)] if order else []
    gen = decode_batches(model, tok, [[enc[i] for i in g] for g in groups], workers=workers, threads=threads,
                         max_new_tokens=max_new_tokens, finished=task.finished, stop_loops=stop_loops,
                         max_rows=batch_size, progress_cb=progress_cb, stats=stats)
    outputs: list[str] = [""] * len(texts)
    for g, out in zip(groups, gen):
        for i, ids in zip(g, out):
            outputs[i] = tok.decode(ids, skip_special_tokens=True).strip()
    if stats is not None:
        stats["workers"] = workers
    return outputs


def score_outputs(items: list[EvalItem], outputs: dict[str, str], task: Task) -> tuple[Metrics, list[dict]]:
    """Score outputs (by item id) against the items with ``task``'s rule; a missing
    output counts as wrong."""
    scores, rows = [], []
    for it in items:
        row = task.score_row(it, outputs.get(it.id, ""))
        if it.id not in outputs:
            row["failure"] = "missing"
        scores.append(ItemScore(it.id, it.source, row["correct"], row["formatted"], row["prediction"], it.gold,
                                row["failure"]))
        rows.append(row)
    return summarise(scores), rows


def model_fingerprint(model_path: Path | str) -> str:
    """A cheap identity of a model directory (config + weights size/mtime)."""
    p = Path(model_path)
    h = hashlib.sha256(str(p.resolve()).encode())
    for f in sorted(p.glob("*.safetensors")) + [p / "config.json"]:
        if f.exists():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def evaluate_model(model_path: Path | str, items: list[EvalItem], instruction: str, *, task: Task,
                   max_new_tokens: int, batch_size: int = 16, bf16: bool = True, stop_loops: bool = True,
                   backend: str = "hf", cache: bool = False, progress_cb: Callable[[int], None] | None = None,
                   stats: dict | None = None) -> tuple[Metrics, list[dict]]:
    """Generate and score. With ``cache=True`` (used for the untouched base
    student) outputs are stored under the data-agent home keyed by model, items,
    prompt and decoding settings, and reused. ``stats``, if given, receives
    :func:`~data_agent.trainers.decode.greedy_decode`'s stop counts, the
    precision, and ``cached`` (whether the outputs came from the cache)."""
    precision = "bf16" if backend == "vllm" or (bf16 and native_bf16()) else "fp32"
    key = hashlib.sha256(json.dumps({
        "model": model_fingerprint(model_path), "items": [[i.id, i.input] for i in items],
        "instruction": instruction, "max_new_tokens": max_new_tokens, "task": task.kind, "precision": precision,
        "stop_loops": stop_loops, "backend": backend, "v": 2,
    }).encode()).hexdigest()[:24]
    if stats is not None:
        stats.update(backend=backend, precision=precision, stop_loops=stop_loops, cached=False)
    cache_file = home_dir() / "eval-cache" / f"{key}.json"
    outputs: dict[str, str] | None = None
    if cache and cache_file.is_file():
        try:
            outputs = json.loads(cache_file.read_text(encoding="utf-8"))
            if stats is not None:
                stats["cached"] = True
            if progress_cb:
                progress_cb(len(items))
        except json.JSONDecodeError:
            outputs = None
    if outputs is None:
        gen = generate_outputs(model_path, [i.input for i in items], instruction, task,
                               max_new_tokens=max_new_tokens, batch_size=batch_size, bf16=bf16,
                               stop_loops=stop_loops, backend=backend, progress_cb=progress_cb, stats=stats)
        outputs = {it.id: o for it, o in zip(items, gen)}
        if cache:
            atomic_write_text(cache_file, json.dumps(outputs))  # runs in other directories share the cache
    return score_outputs(items, outputs, task)


def read_predictions(path: Path) -> dict[str, str]:
    """Predictions JSONL: one ``{"id": ..., "output": ...}`` per line. An id that
    appears twice is an error naming the line of the second one (which output
    counts would be a guess)."""
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for n, row in iter_jsonl(path, what="an object with 'id' and 'output'", error=DataAgentError):
        for k in ("id", "output"):
            if k not in row:
                raise DataAgentError(f"{path}:{n}: missing field {k!r}")
        if not isinstance(row["output"], str):
            raise DataAgentError(f"{path}:{n}: field 'output' must be a string")
        key = str(row["id"])
        if key in first_line:
            raise DataAgentError(f"{path}:{n}: duplicate id {key!r} (first on line {first_line[key]})")
        first_line[key] = n
        out[key] = row["output"]
    return out
