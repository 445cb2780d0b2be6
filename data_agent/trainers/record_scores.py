"""How hard each candidate record is for the current student: the mean token
loss of its output and its EL2N score, for the ``loss`` and ``el2n`` selection
policies (:mod:`data_agent.generators.selection`).

The record is formatted exactly as training formats it (the chat template over
the prompt/completion conversation of :func:`data_agent.trainers.sft.to_conversation`),
and only the completion's tokens count, as in training's loss mask.

EL2N (Paul et al. 2021, "Deep Learning on a Data Diet") is the L2 norm of the
softmax output minus the one-hot target; here it is averaged over the
completion's tokens, with the student as it is now (the paper averages over a
few early-training checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from ..models import load_model, load_tokenizer
from .sft import to_conversation

__all__ = ["record_scores", "scorer_for"]


def _token_ids(tok, record: Any, max_length: int) -> tuple[list[int], int]:
    conv = to_conversation(record.instruction, record.input, record.output)
    prompt = tok.apply_chat_template(conv["prompt"], tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(conv["prompt"] + conv["completion"], tokenize=False)
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = tok(full, add_special_tokens=False)["input_ids"][:max_length]
    return ids, min(len(p_ids), len(ids) - 1)


def record_scores(model_path: Path | str, records: Sequence[Any], *, batch_size: int = 8, max_length: int = 1024,
                  progress_cb: Callable[[int, int], None] | None = None) -> list[dict[str, float]]:
    """``{"loss", "el2n"}`` of each record under the model at ``model_path``."""
    import torch

    tok = load_tokenizer(model_path)
    model = load_model(model_path)
    model.eval()
    pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    encoded = [_token_ids(tok, r, max_length) for r in records]
    order = sorted(range(len(records)), key=lambda i: len(encoded[i][0]))  # similar lengths per batch
    out: list[dict[str, float]] = [{} for _ in records]
    done = 0
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            width = max(len(encoded[i][0]) for i in idx)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                seq = encoded[i][0]
                ids[row, :len(seq)] = torch.tensor(seq)
                mask[row, :len(seq)] = 1
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            for row, i in enumerate(idx):
                seq, start = encoded[i]
                if len(seq) - start < 1:
                    out[i] = {"loss": 0.0, "el2n": 0.0}
                    continue
                lg = logits[row, start - 1 if start else 0:len(seq) - 1]
                tgt = torch.tensor(seq[start if start else 1:len(seq)])
                logp = torch.log_softmax(lg, dim=-1)
                loss = float(-logp.gather(1, tgt[:, None]).mean())
                probs = logp.exp()
                probs[torch.arange(len(tgt)), tgt] -= 1.0
                out[i] = {"loss": round(loss, 6), "el2n": round(float(probs.norm(dim=-1).mean()), 6)}
            done += len(idx)
            if progress_cb:
                progress_cb(done, len(records))
    return out


def scorer_for(model_path: Path | str, **kw: Any) -> Callable[[Sequence[Any]], list[dict[str, float]]]:
    """A :data:`data_agent.generators.selection.ScoreFn` for the model at ``model_path``."""
    return lambda records: record_scores(model_path, records, **kw)
