"""Local transformers teacher (``hf:<model>``), for CPU runs without an API.

Requests are grouped by sampling parameters, sorted by prompt length and
decoded in batches of ``batch_size`` with left padding (greedy when
``temperature == 0``, sampled otherwise, seeded per batch). The chat template
of the tokenizer renders the messages when it has one.

The reply text is returned as generated. A small model such as the embedded
SmolLM2-135M will often write garbled JSON: the runner's schema check and
:func:`~data_agent.generators.generate.parse_problem_reply` turn that into a
counted rejection, never a crash.

``model`` is resolved like a student (:func:`~data_agent.trainers.student.resolve_student`):
``smollm2-135m``, ``tiny-llama``, a model directory, or a hub name (which needs
the network unless it is in the local HF cache).
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from .base import TeacherRequest, TeacherResponse, Usage

__all__ = ["HFTeacher", "render_prompt"]


def render_prompt(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[str, bool]:
    """``(prompt text, has_template)``: the chat template with the generation
    prompt, or a plain ``role: content`` transcript without one."""
    msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True), True
    lines = [f"{m['role']}: {m['content']}" for m in msgs]
    return "\n\n".join(lines) + "\n\nassistant:", False


class HFTeacher:
    """A batch teacher on a local ``transformers`` causal LM (loaded on first use).

    Args:
        model: ``smollm2-135m``, ``tiny-llama``, a model directory or a hub name.
        batch_size: sequences decoded together.
        max_new_tokens: optional cap on every request's ``max_tokens`` (CPU time).
        device: torch device (``cpu`` by default).
    """

    backend = "hf"
    is_batch = True

    def __init__(self, model: str, *, batch_size: int = 8, max_new_tokens: int | None = None,
                 device: str = "cpu"):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model = model
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.device = device
        self._lock = threading.Lock()
        self._lm: Any = None
        self._tok: Any = None
        self.path: Path | str | None = None

    def __repr__(self) -> str:
        return f"HFTeacher(model={self.model!r})"

    def _load(self) -> tuple[Any, Any]:
        if self._lm is None:
            from ..trainers.student import load_model, load_tokenizer, resolve_student

            self.path = resolve_student(self.model)
            tok = load_tokenizer(self.path)
            tok.padding_side = "left"
            lm = load_model(self.path)
            lm.to(self.device)
            lm.eval()
            self._tok, self._lm = tok, lm
        return self._lm, self._tok

    def generate_sync(self, requests: Sequence[TeacherRequest]) -> list[TeacherResponse]:
        """Answer every request, in order (blocking)."""
        import torch

        with self._lock:
            lm, tok = self._load()
            out: list[TeacherResponse | None] = [None] * len(requests)
            groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            prompts: list[str] = []
            templated = False
            for i, r in enumerate(requests):
                text, templated = render_prompt(tok, r.messages)
                prompts.append(text)
                p = r.params
                groups[(p.temperature, p.top_p, p.max_tokens, p.stop)].append(i)
            eos_ids = self._eos_ids(lm, tok)
            for (temperature, top_p, max_tokens, stop), idx in groups.items():
                idx = sorted(idx, key=lambda i: len(prompts[i]))
                for start in range(0, len(idx), self.batch_size):
                    chunk = idx[start:start + self.batch_size]
                    enc = tok([prompts[i] for i in chunk], return_tensors="pt", padding=True,
                              add_special_tokens=not templated).to(self.device)
                    new = int(max_tokens if self.max_new_tokens is None else min(max_tokens, self.max_new_tokens))
                    gen_kw: dict[str, Any] = {"max_new_tokens": max(1, new), "pad_token_id": tok.pad_token_id}
                    if temperature and temperature > 0:
                        seed = requests[chunk[0]].params.seed
                        torch.manual_seed(0 if seed is None else int(seed))
                        gen_kw.update(do_sample=True, temperature=float(temperature), top_p=float(top_p))
                    else:
                        gen_kw.update(do_sample=False)
                    with torch.inference_mode():
                        seqs = lm.generate(**enc, **gen_kw)
                    width = enc["input_ids"].shape[1]
                    for row, i in enumerate(chunk):
                        out[i] = self._response(seqs[row, width:].tolist(), int(enc["attention_mask"][row].sum()),
                                                new, eos_ids, tok, stop, requests[i])
            return [r for r in out if r is not None]

    @staticmethod
    def _eos_ids(lm: Any, tok: Any) -> set[int]:
        ids: set[int] = set()
        for source in (getattr(lm.generation_config, "eos_token_id", None), tok.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(int(x) for x in source)
        return ids

    def _response(self, tokens: list[int], prompt_tokens: int, max_new: int, eos_ids: set[int], tok: Any,
                  stop: tuple[str, ...], request: TeacherRequest) -> TeacherResponse:
        pad = tok.pad_token_id
        n = len(tokens)
        ended = False
        for k, t in enumerate(tokens):
            if t in eos_ids:
                n, ended = k + 1, True
                break
        if not ended:
            while n > 0 and pad is not None and tokens[n - 1] == pad and pad not in eos_ids:
                n -= 1
        text = tok.decode(tokens[:n], skip_special_tokens=True)
        finish = "stop" if ended or n < max_new else "length"
        for s in stop:
            j = text.find(s)
            if j >= 0:
                text, finish = text[:j], "stop"
        return TeacherResponse(text=text, usage=Usage(prompt_tokens, n), finish_reason=finish,
                               model=self.model, metadata=dict(request.metadata))

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        """:meth:`generate_sync` in a worker thread."""
        return await asyncio.to_thread(self.generate_sync, requests)

    async def aclose(self) -> None:
        return None
