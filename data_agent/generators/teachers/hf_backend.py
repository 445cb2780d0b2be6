"""Local transformers teacher (``hf:<model>``), for CPU runs without an API.

Requests are grouped by sampling parameters, sorted by prompt length and
decoded in batches of ``batch_size`` with left padding (greedy when
``temperature == 0``, sampled otherwise, seeded per batch). The chat template
of the tokenizer renders the messages when it has one.

Structured output: when a request carries a JSON schema, decoding is
constrained to it with `xgrammar` (:mod:`data_agent.generators.teachers.hf_structured`;
a problem request gets its task's tighter grammar,
:meth:`data_agent.tasks.Task.grammar`), so every reply
that ends within the token budget is a schema-valid document. This is on by
default (``structured=None``: used when xgrammar imports; ``True`` requires it;
``False`` turns it off). Without xgrammar a one-line notice is printed and
the reply text is returned as generated: a small model such as the embedded
SmolLM2-135M then almost never writes valid JSON, and the runner's schema
check and :func:`~data_agent.generators.generate.parse_problem_reply` turn
that into a counted rejection, never a crash.

Small local models get the compact prompt
(:func:`~data_agent.generators.prompts.render_messages`), since their CPU
time grows with the prompt; ``scripts/bench_hf_teacher.py`` measures the
time per request and the share of replies that become records.

``model`` is resolved like a student (:func:`~data_agent.models.resolve_student`):
``smollm2-135m``, ``tiny-llama``, a model directory, or a hub name (which needs
the network unless it is in the local HF cache).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from ...errors import DataAgentError
from ...models import eos_token_ids
from .base import TeacherRequest, TeacherResponse, Usage

__all__ = ["DEFAULT_MAX_NEW_TOKENS", "HFTeacher", "render_prompt"]

DEFAULT_MAX_NEW_TOKENS = 512
"""Default cap on generated tokens per ``hf:`` reply."""


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
        max_new_tokens: cap on every request's ``max_tokens`` (CPU time; a batch
            decodes until its longest reply ends); default
            :data:`DEFAULT_MAX_NEW_TOKENS`, enough for a typical problem document
            (a degenerate reply filling the grammar's length limits with
            one-character tokens, e.g. digit runs, is cut and rejected as
            truncated); ``None`` for no cap.
        device: torch device (``cpu`` by default).
        structured: constrain replies to the request's JSON schema with
            xgrammar: ``None`` (default) when installed, ``True`` always (a
            :class:`DataAgentError` without it), ``False`` never.
    """

    backend = "hf"
    is_batch = True
    TOP_K = 50
    """Top-k of sampled requests (transformers' default), applied after the grammar mask."""

    def __init__(self, model: str, *, batch_size: int = 16, max_new_tokens: int | None = DEFAULT_MAX_NEW_TOKENS,
                 device: str = "cpu", structured: bool | None = None):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model = model
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.device = device
        from . import hf_structured

        if structured is None:
            structured = hf_structured.available()
            if not structured:
                print(f"data-agent: hf:{model}: xgrammar is not installed, so replies are not constrained to the "
                      "JSON schema and a small model rarely writes a valid one; install it with: "
                      f"{hf_structured.INSTALL_HINT}", file=sys.stderr)
        elif structured and not hf_structured.available():
            raise DataAgentError(f"hf:{model}: structured decoding needs xgrammar: {hf_structured.INSTALL_HINT}")
        self.structured = bool(structured)
        self._decoding: Any = None
        self._lock = threading.Lock()
        self._lm: Any = None
        self._tok: Any = None
        self.path: Path | str | None = None

    def __repr__(self) -> str:
        return f"HFTeacher(model={self.model!r})"

    def _load(self) -> tuple[Any, Any]:
        if self._lm is None:
            from ...models import load_model, load_tokenizer, resolve_student

            self.path = resolve_student(self.model)
            tok = load_tokenizer(self.path)
            tok.padding_side = "left"
            lm = load_model(self.path)
            lm.to(self.device)
            lm.eval()
            self._tok, self._lm = tok, lm
            if self.structured:
                from .hf_structured import StructuredDecoding

                vocab = int(lm.get_output_embeddings().weight.shape[0])
                self._decoding = StructuredDecoding(tok, vocab, eos_token_ids(lm.generation_config, tok))
        return self._lm, self._tok

    def generate_sync(self, requests: Sequence[TeacherRequest]) -> list[TeacherResponse]:
        """Answer every request, in order (blocking)."""
        import torch

        with self._lock:
            lm, tok = self._load()
            out: list[TeacherResponse | None] = [None] * len(requests)
            groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            prompts: list[str] = []
            schemas: dict[str, Any] = {}
            templated = False
            for i, r in enumerate(requests):
                text, templated = render_prompt(tok, r.messages)
                prompts.append(text)
                p = r.params
                schema = json.dumps(r.json_schema, sort_keys=True) if self._decoding and r.json_schema else ""
                schemas.setdefault(schema, r.json_schema)
                groups[(p.temperature, p.top_p, p.max_tokens, p.stop, schema)].append(i)
            eos_ids = eos_token_ids(lm.generation_config, tok)
            for (temperature, top_p, max_tokens, stop, schema), idx in groups.items():
                grammar = self._decoding.grammar_for(schemas[schema]) if schema else None
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
                    if grammar is not None:
                        gen_kw.update(self._grammar_kwargs(grammar, len(chunk), gen_kw))
                    with torch.inference_mode():
                        seqs = lm.generate(**enc, **gen_kw)
                    width = enc["input_ids"].shape[1]
                    for row, i in enumerate(chunk):
                        out[i] = self._response(seqs[row, width:].tolist(), int(enc["attention_mask"][row].sum()),
                                                new, eos_ids, tok, stop, requests[i])
            return [r for r in out if r is not None]

    def _grammar_kwargs(self, grammar: Any, rows: int, gen_kw: dict[str, Any]) -> dict[str, Any]:
        """``generate`` arguments that constrain decoding to ``grammar``.

        transformers runs custom logits processors after its own sampling
        warpers; the grammar mask must come first (top-k/top-p after a mask,
        never a mask after top-k/top-p, which could leave no token), so the
        warpers are disabled in ``generate`` and applied after the mask here.
        """
        from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

        procs: list[Any] = [self._decoding.processor(grammar, rows)]
        out: dict[str, Any] = {}
        if gen_kw.get("do_sample"):
            temperature, top_p = float(gen_kw["temperature"]), float(gen_kw["top_p"])
            if temperature != 1.0:
                procs.append(TemperatureLogitsWarper(temperature))
            procs.append(TopKLogitsWarper(top_k=self.TOP_K))
            if top_p < 1.0:
                procs.append(TopPLogitsWarper(top_p))
            out.update(temperature=1.0, top_p=1.0, top_k=0)
        out["logits_processor"] = LogitsProcessorList(procs)
        return out

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
