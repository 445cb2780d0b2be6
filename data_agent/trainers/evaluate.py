"""Evaluation runs: batched greedy decoding of the student, then scoring.

Batches are sorted by prompt length, left-padded, and decoding stops as soon as
every sequence in the batch has finished its answer line (the task's
:meth:`~data_agent.tasks.Task.finished`) or emitted EOS. Scoring is the task's
rule (:mod:`data_agent.tasks`), shared with the validators.
"""

from __future__ import annotations

import hashlib
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
from ..models import load_model, load_tokenizer

def generate_outputs(model_path: Path | str, prompts: list[str], instruction: str, task: Task,
                     max_new_tokens: int = 256, batch_size: int = 16,
                     progress_cb: Callable[[int], None] | None = None) -> list[str]:
    """Greedy outputs for ``prompts`` (the records' ``input``), in input order;
    a sequence stops once ``task`` says it has written its answer line."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    tok = load_tokenizer(model_path)
    tok.padding_side = "left"
    model = load_model(model_path)
    model.eval()
    texts = [tok.apply_chat_template(to_conversation(instruction, p)["prompt"], tokenize=False,
                                     add_generation_prompt=True) for p in prompts]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
    outputs: list[str] = [""] * len(texts)

    class AnswerDone(StoppingCriteria):
        def __init__(self, start: int):
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
                outputs[i] = tok.decode(gen[j, start:], skip_special_tokens=True).strip()
            if progress_cb:
                progress_cb(len(idx))
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
                   max_new_tokens: int, batch_size: int = 16, cache: bool = False,
                   progress_cb: Callable[[int], None] | None = None) -> tuple[Metrics, list[dict]]:
    """Generate and score. With ``cache=True`` (used for the untouched base
    student) outputs are stored under the data-agent home keyed by model, items,
    prompt and decoding settings, and reused."""
    key = hashlib.sha256(json.dumps({
        "model": model_fingerprint(model_path), "items": [[i.id, i.input] for i in items],
        "instruction": instruction, "max_new_tokens": max_new_tokens, "task": task.kind, "v": 1,
    }).encode()).hexdigest()[:24]
    cache_file = home_dir() / "eval-cache" / f"{key}.json"
    outputs: dict[str, str] | None = None
    if cache and cache_file.is_file():
        try:
            outputs = json.loads(cache_file.read_text(encoding="utf-8"))
            if progress_cb:
                progress_cb(len(items))
        except json.JSONDecodeError:
            outputs = None
    if outputs is None:
        gen = generate_outputs(model_path, [i.input for i in items], instruction, task,
                               max_new_tokens=max_new_tokens, batch_size=batch_size, progress_cb=progress_cb)
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
