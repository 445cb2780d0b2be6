"""Grammar-constrained decoding for the local transformers teacher (``hf:``).

A small local model (SmolLM2-135M) almost never writes a valid JSON document on
its own. With `xgrammar <https://xgrammar.mlc.ai/>`_ (the ``hf-structured`` extra),
:class:`~data_agent.generators.teachers.hf_backend.HFTeacher` masks, at every
decoding step, the tokens that would leave the request's grammar: every reply
that ends within the token budget is then a document valid against the
request's JSON schema (a reply cut by the budget is still a counted rejection).

For a problem request (``json_schema`` is a task's
:attr:`~data_agent.tasks.Task.problem_schema`) the grammar is the task's own
(:meth:`~data_agent.tasks.Task.grammar`), tighter than its schema: field order,
bounded strings and the task's final answer line (for SciBench problems see
:func:`data_agent.tasks.boxed_numeric.problem_grammar`). Any other schema is
compiled as given.

The grammar constrains form only: the model writes every field and picks every
value. Whether the document is any good is checked downstream by the
validators, as for any teacher.

Task grammars are written in xgrammar's EBNF rather than compiled from a JSON
schema with ``pattern``/``maxLength``: a schema pattern with a counted
repetition above 128 fails to compile in xgrammar 0.2.x (with its cache on)
and, below that, costs hundreds of milliseconds per token on CPU; ``maxLength``
forbids escapes. An explicit chain of optional characters
(:func:`data_agent.tasks.ebnf_bounded`) costs about a millisecond per token
(compiled once per model, a few seconds).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from typing import Any, Iterable

from ...tasks import task_for_schema

__all__ = ["INSTALL_HINT", "GrammarLogitsProcessor", "StructuredDecoding", "available", "make_processor_class"]

INSTALL_HINT = "pip install 'data-agent[hf-structured]' (xgrammar)"


def available() -> bool:
    """Whether xgrammar is installed."""
    return importlib.util.find_spec("xgrammar") is not None


class StructuredDecoding:
    """Compiled grammars for one tokenizer (built once per loaded model).

    Args:
        tokenizer: the model's Hugging Face tokenizer.
        vocab_size: rows of the model's output layer (may exceed the tokenizer's size).
        stop_ids: the token ids that end a reply.
    """

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: Iterable[int]):
        import xgrammar as xgr

        self.stop_ids = sorted(int(i) for i in stop_ids)
        self.vocab_size = int(vocab_size)
        self.info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=self.vocab_size,
                                                       stop_token_ids=self.stop_ids)
        self.compiler = xgr.GrammarCompiler(self.info, max_threads=2, cache_enabled=False)
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def grammar_for(self, schema: dict[str, Any]) -> Any:
        """The compiled grammar of a request's schema (the task's own grammar for a
        task's problem schema), or ``None`` when xgrammar cannot compile it (the
        replies are then unconstrained and checked by the runner as usual)."""
        key = json.dumps(schema, sort_keys=True)
        with self._lock:
            g = self._grammars.get(key)
            if g is None:
                task = task_for_schema(schema)
                ebnf = task.grammar() if task is not None else None
                if ebnf is not None:
                    g = self.compiler.compile_grammar(ebnf)
                else:  # compiled from the schema as given: properties keep their order
                    try:
                        g = self.compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
                    except Exception as e:  # noqa: BLE001 - an unsupported schema decodes unconstrained
                        print(f"data-agent: xgrammar cannot compile a request's JSON schema "
                              f"({str(e).splitlines()[0][:200]}); those replies are not constrained",
                              file=sys.stderr)
                        g = None
                self._grammars[key] = g
            return g

    def processor(self, grammar: Any, batch_size: int) -> Any:
        """A fresh logits processor for one ``generate`` call of ``batch_size`` rows."""
        return make_processor_class()(grammar, batch_size, self.stop_ids)


def _processor_base() -> type:
    from transformers import LogitsProcessor

    return LogitsProcessor


class GrammarLogitsProcessor:
    """Masks every row's logits to the tokens its grammar allows next.

    One :class:`xgrammar.GrammarMatcher` per row; the token sampled at the
    previous step is accepted before the next mask is filled. A finished row
    (stop token accepted) may only emit a stop token (transformers pads it
    anyway). Use one instance per ``generate`` call.
    """

    def __init__(self, grammar: Any, batch_size: int, stop_ids: list[int]):
        import xgrammar as xgr

        self._xgr = xgr
        self.matchers = [xgr.GrammarMatcher(grammar) for _ in range(batch_size)]
        self.bitmask = xgr.allocate_token_bitmask(batch_size, grammar.tokenizer_info.vocab_size)
        self.stop_ids = stop_ids
        self.batch_size = batch_size
        self.started = False
        self.rejected = [False] * batch_size

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if input_ids.shape[0] != self.batch_size:
            raise RuntimeError(f"grammar processor built for {self.batch_size} rows, got {input_ids.shape[0]}")
        done: list[int] = []
        for i, m in enumerate(self.matchers):
            if self.started and not m.is_terminated() and not self.rejected[i]:
                if not m.accept_token(int(input_ids[i, -1])):
                    self.rejected[i] = True  # cannot happen with a correct mask; end the row
            if m.is_terminated() or self.rejected[i]:
                done.append(i)
            else:
                m.fill_next_token_bitmask(self.bitmask, i)
        self.started = True
        live = [i for i in range(self.batch_size) if i not in done]
        if live:
            self._xgr.apply_token_bitmask_inplace(scores, self.bitmask.to(scores.device),
                                                  vocab_size=min(scores.shape[-1], self.bitmask.shape[-1] * 32),
                                                  indices=live)
        for i in done:
            scores[i, :] = -torch.inf
            scores[i, self.stop_ids[0]] = 0.0
        return scores


def make_processor_class() -> type:
    """:class:`GrammarLogitsProcessor` as a ``transformers.LogitsProcessor`` subclass."""
    base = _processor_base()
    return type("XGrammarLogitsProcessor", (GrammarLogitsProcessor, base), {})
