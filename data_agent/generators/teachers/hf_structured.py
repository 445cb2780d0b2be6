"""Grammar-constrained decoding for the local transformers teacher (``hf:``).

A small local model (SmolLM2-135M) almost never writes a valid JSON document on
its own. With `xgrammar <https://xgrammar.mlc.ai/>`_ (a dependency),
:class:`~data_agent.generators.teachers.hf_backend.HFTeacher` masks, at every decoding
step, the tokens that would leave the request's grammar: every reply that ends
within the token budget is then a document valid against the request's JSON
schema (a reply cut by the budget is still a counted rejection).

For a problem request (``json_schema == PROBLEM_SCHEMA``) the grammar is
:func:`problem_grammar`, tighter than ``PROBLEM_SCHEMA`` (every document it
admits is valid against it):

* one line, fields in the order ``problem``, ``unit``, ``solution``,
  ``answer``: the solution ends by boxing its result and ``answer`` repeats it
  right after (a small model copies a number it has just written far more
  reliably than it keeps one across a whole solution;
  ``scripts/bench_hf_teacher.py`` measures how often they agree);
* bounded strings (CPU time): ``problem`` 20-:data:`PROBLEM_MAX_CHARS`,
  ``unit`` <= :data:`UNIT_MAX_CHARS`, ``solution`` <= :data:`SOLUTION_MAX_CHARS`
  characters (of JSON text; the only escapes are ``\\" \\\\ \\/``: a small model
  writes LaTeX such as ``\\text`` or ``\\nu`` with one backslash, which JSON reads as
  a tab or a newline; the grammar makes it write ``\\\\text``, the LaTeX it meant);
  ``answer`` a plain decimal with at most :data:`ANSWER_MAX_DIGITS` integer
  digits and 6 decimals;
* the solution ends with ``The answer is therefore \\boxed{X.XXX}.`` (three
  decimals), the format the validators require.

The grammar constrains form only: the model writes every field and picks every
number. Whether its boxed number equals its ``answer`` (and whether the
problem is any good) is checked downstream by the validators, as for any
teacher.

The grammar is written in xgrammar's EBNF rather than compiled from a JSON
schema with ``pattern``/``maxLength``: a schema pattern with a counted
repetition above 128 fails to compile in xgrammar 0.2.x (with its cache on)
and, below that, costs hundreds of milliseconds per token on CPU; ``maxLength``
forbids escapes. The explicit chain of optional characters below costs about
a millisecond per token (compiled once per model, a few seconds).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from typing import Any, Iterable

from .base import PROBLEM_SCHEMA

__all__ = ["ANSWER_MAX_DIGITS", "INSTALL_HINT", "PROBLEM_MAX_CHARS", "SOLUTION_MAX_CHARS",
           "UNIT_MAX_CHARS", "GrammarLogitsProcessor", "StructuredDecoding", "available", "make_processor_class",
           "problem_grammar"]

PROBLEM_MAX_CHARS = 400
UNIT_MAX_CHARS = 40
SOLUTION_MAX_CHARS = 500
ANSWER_MAX_DIGITS = 7
INSTALL_HINT = "pip install 'xgrammar>=0.2' (a dependency of data-agent)"


def available() -> bool:
    """Whether xgrammar is installed."""
    return importlib.util.find_spec("xgrammar") is not None


def _bounded(name: str, lo: int, hi: int) -> str:
    """EBNF rules: ``name`` matches ``lo`` to ``hi`` JSON string characters
    (``lo`` mandatory ones, then a chain of optional ones)."""
    first = " ".join(["ch"] * lo + [f"{name}_0"])
    rules = [f"{name} ::= {first}"]
    n = hi - lo
    rules += [f'{name}_{k} ::= "" | ch {name}_{k + 1}' for k in range(n)]
    rules.append(f'{name}_{n} ::= ""')
    return "\n".join(rules)


def problem_grammar() -> str:
    """The EBNF grammar of a problem reply for ``hf:`` teachers (see module docstring)."""
    box = "The answer is therefore \\\\\\\\boxed{"  # JSON text of one backslash, escaped for EBNF
    body = SOLUTION_MAX_CHARS - len("The answer is therefore \\boxed{-0.000}.") - 1
    root = (
        'root ::= "{\\"problem\\": \\"" problem "\\", \\"unit\\": \\"" unit "\\", \\"solution\\": \\"" '
        f'solution " "? "{box}" "-"? [0-9]{{1,{ANSWER_MAX_DIGITS}}} "." [0-9]{{3}} "}}.\\", \\"answer\\": " number "}}"'
    )
    return "\n".join([
        root,
        'ch ::= [^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/]',
        f'number ::= "-"? ("0" | [1-9] [0-9]{{0,{ANSWER_MAX_DIGITS - 1}}}) ("." [0-9]{{1,6}})?',
        _bounded("problem", 20, PROBLEM_MAX_CHARS),
        _bounded("unit", 0, UNIT_MAX_CHARS),
        _bounded("solution", 10, body),
    ]) + "\n"


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
        """The compiled grammar of a request's schema (:func:`problem_grammar` for
        ``PROBLEM_SCHEMA``), or ``None`` when xgrammar cannot compile it (the
        replies are then unconstrained and checked by the runner as usual)."""
        key = "problem" if schema == PROBLEM_SCHEMA else json.dumps(schema, sort_keys=True)
        with self._lock:
            g = self._grammars.get(key)
            if g is None:
                if key == "problem":
                    g = self.compiler.compile_grammar(problem_grammar())
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
