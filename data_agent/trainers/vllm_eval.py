"""Scoring the student with vLLM (``eval.backend = "vllm"``, the ``vllm`` extra; a GPU).

The prompts are the token ids the transformers path decodes from (the same chat
template, built by the same tokenizer), the decoding is greedy with the same
token limit, and each continuation is cut where
:func:`~data_agent.trainers.decode.greedy_decode` would have stopped it (answer
line, EOS or a repetition loop: :func:`~data_agent.trainers.decode.truncate_at_stop`),
so the scorer sees the same texts. vLLM decodes on past a stop point (it knows
no regex stop); that costs GPU time, not results.

vLLM is imported lazily; without it, :func:`vllm_outputs` raises a
:class:`DataAgentError` telling how to install it. The request mapping
(:func:`vllm_eval_requests`) is plain data, testable without vLLM.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, Callable

from ..errors import DataAgentError

VLLM_EVAL_HINT = ("eval.backend = 'vllm' needs vLLM, which is not installed: pip install 'data-agent[vllm]' "
                  "(a GPU machine), or set eval.backend = 'hf'")


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


def check_vllm() -> None:
    """Raise the one-line install hint unless vLLM can be imported."""
    if not vllm_available():
        raise DataAgentError(VLLM_EVAL_HINT)


def vllm_eval_requests(prompt_ids: list[list[int]], max_new_tokens: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(prompts, SamplingParams keyword arguments)`` for scoring: token-id
    prompts (``{"prompt_token_ids": [...]}``, vLLM's ``TokensPrompt``) and
    greedy decoding with the transformers path's token limit."""
    prompts = [{"prompt_token_ids": list(map(int, p))} for p in prompt_ids]
    return prompts, {"temperature": 0.0, "top_p": 1.0, "max_tokens": int(max_new_tokens), "n": 1}


def vllm_outputs(model_path: Path | str, prompt_ids: list[list[int]], *, max_new_tokens: int, tok,
                 finished: Callable[[str], bool], eos: set[int], stop_loops: bool = True,
                 llm: Any = None, sampling_module: Any = None, llm_kwargs: dict[str, Any] | None = None,
                 stats: dict | None = None) -> list[list[int]]:
    """The continuations (token ids, cut at the stop rule) of ``prompt_ids``
    decoded by vLLM, in order. ``llm``/``sampling_module`` are stand-ins for
    tests (``vllm.LLM`` and ``vllm.sampling_params`` otherwise)."""
    from .decode import truncate_at_stop

    if llm is None or sampling_module is None:
        check_vllm()
    if sampling_module is None:
        sampling_module = importlib.import_module("vllm.sampling_params")
    if llm is None:
        import vllm

        try:
            llm = vllm.LLM(model=str(model_path), **(llm_kwargs or {"dtype": "bfloat16", "seed": 0}))
        except Exception as e:  # noqa: BLE001 - a model or GPU problem: one clear line
            raise DataAgentError(f"vllm cannot load {model_path}: {type(e).__name__}: "
                                 f"{str(e).splitlines()[0] if str(e) else ''}") from None
    prompts, kwargs = vllm_eval_requests(prompt_ids, max_new_tokens)
    results = llm.generate(prompts, sampling_module.SamplingParams(**kwargs), use_tqdm=False)
    if len(results) != len(prompts):
        raise DataAgentError(f"vllm returned {len(results)} outputs for {len(prompts)} prompts")
    outs = []
    counts = {"answer": 0, "loop": 0, "eos": 0, "limit": 0, "tokens": 0}
    for r in results:
        completions = getattr(r, "outputs", None) or []
        ids = list(getattr(completions[0], "token_ids", None) or []) if completions else []
        kept, why = truncate_at_stop(tok, ids, finished, eos, stop_loops)
        if why == "limit" and completions and getattr(completions[0], "finish_reason", None) == "stop":
            why = "eos"  # vLLM stopped at an end token it did not return
        counts[why] += 1
        counts["tokens"] += len(kept)
        outs.append(kept)
    if stats is not None:
        for k, v in counts.items():
            stats[k] = stats.get(k, 0) + v
    return outs
