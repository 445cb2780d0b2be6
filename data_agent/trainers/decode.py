"""Batched greedy decoding with early stops, for scoring the student.

Greedy decoding as ``model.generate(do_sample=False)`` does it (left padding,
position ids from the attention mask, a KV cache; ``tests/test_decode.py``
checks the tokens are the same), with differences that only save time:

* a sequence leaves the batch as soon as it has written its answer line (the
  task's :meth:`~data_agent.tasks.Task.finished`), emitted EOS, or degenerated
  into a repetition loop (:func:`~data_agent.tasks.base.is_looping`: the same
  short unit repeated over the tail); its rows of the KV cache are dropped and
  a waiting prompt is encoded and joins the batch in its place;
* the prompt prefix the batch shares (chat template and instruction) is
  encoded once and copied to every row;
* the KV cache keeps its keys and values in buffers with room to grow
  (:func:`growing_layer_class`), so a step writes one position in place instead of
  copying the whole cache (``torch.cat``), which took a third of a step;
* only the last position's logits are computed, and the stop checks decode a
  short tail of the new tokens, not the whole output;
* on a CPU, one batch per core decodes side by side (:func:`cpu_workers`).

A looping sequence stopped early holds no answer line (a finished one would
have stopped first), so it is scored as it would have been at the token limit:
no answer, failure class ``looping``. It would differ only if greedy decoding
left a loop of eight or more repeats and then wrote an answer line before the
limit; ``scripts/bench_eval.py`` counts such items against plain generation.
The same decoding serves the base and the trained student.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from ..models import eos_token_ids
from ..tasks.base import is_looping

TAIL_TOKENS = 48
"""New tokens decoded for the answer-line check (an answer line is shorter)."""
LOOP_TAIL_TOKENS = 96
"""New tokens decoded for the loop check (:func:`is_looping` looks at 200 characters)."""
LOOP_EVERY = 8
"""Steps between loop checks (a loop is only seen after many repeats anyway)."""


def stop_reason(text_tail: str, loop_tail: str | None, finished: Callable[[str], bool]) -> str | None:
    """Why a sequence whose new text ends in ``text_tail`` stops now: ``"answer"``,
    ``"loop"`` (``loop_tail`` given and looping) or ``None``."""
    if finished(text_tail):
        return "answer"
    if loop_tail is not None and is_looping(loop_tail):
        return "loop"
    return None


class StopChecker:
    """The stop rule of one sequence, fed one new token at a time: every
    decoder (ours, and :func:`truncate_at_stop` over another engine's tokens)
    applies it the same way."""

    def __init__(self, tok, finished: Callable[[str], bool], stop_loops: bool = True):
        self.tok, self.finished, self.stop_loops = tok, finished, stop_loops
        self.ids: list[int] = []

    def push(self, token: int) -> str | None:
        """Append ``token`` (not EOS); why the sequence stops now, or ``None``."""
        self.ids.append(token)
        tail = self.tok.decode(self.ids[-TAIL_TOKENS:], skip_special_tokens=True)
        loop_tail = None
        if self.stop_loops and len(self.ids) % LOOP_EVERY == 0:
            loop_tail = self.tok.decode(self.ids[-LOOP_TAIL_TOKENS:], skip_special_tokens=True)
        return stop_reason(tail, loop_tail, self.finished)


def truncate_at_stop(tok, token_ids: list[int], finished: Callable[[str], bool], eos: set[int],
                     stop_loops: bool = True) -> tuple[list[int], str]:
    """``token_ids`` (a greedy continuation from any engine) cut where
    :func:`greedy_decode` would have stopped, and why (``answer``, ``loop``,
    ``eos`` or ``limit``)."""
    check = StopChecker(tok, finished, stop_loops)
    for t in token_ids:
        if t in eos:
            return check.ids, "eos"
        why = check.push(t)
        if why is not None:
            return check.ids, why
    return check.ids, "limit"


MIN_SHARED_PREFIX = 16
"""Shortest common prompt prefix worth encoding once for the whole batch."""


def shared_prefix(prompts: list[list[int]]) -> int:
    """The length of the token prefix every prompt shares (each keeps at least
    one token of its own), or 0 when it is shorter than :data:`MIN_SHARED_PREFIX`
    or there is a single prompt."""
    if len(prompts) < 2:
        return 0
    k = min(len(p) for p in prompts) - 1
    first = prompts[0]
    for p in prompts[1:]:
        j = 0
        while j < k and p[j] == first[j]:
            j += 1
        k = j
    return k if k >= MIN_SHARED_PREFIX else 0


GROW_BY = 128
"""Positions a :class:`GrowingLayer`'s buffers gain each time they fill up."""


@functools.cache
def growing_layer_class():
    """The cache layer class :func:`greedy_decode` uses, defined on first use
    (transformers is imported lazily)."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        """A :class:`~transformers.cache_utils.DynamicLayer` whose keys and
        values are views into buffers with :data:`GROW_BY` spare positions:
        ``update`` writes the new positions in place, and reallocates only
        when the buffer is full or ``keys``/``values`` were replaced (row
        selection, joins), instead of concatenating the whole cache every step."""

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n = self.keys.shape[-2] if self.keys.numel() else 0
            q = key_states.shape[-2]
            kbuf = getattr(self, "_kbuf", None)
            if (kbuf is None or self.keys is not self._kview or self.values is not self._vview
                    or n + q > kbuf.shape[-2]):
                b, h, _, d = key_states.shape
                kbuf = key_states.new_empty((b, h, n + q + GROW_BY, d))
                vbuf = value_states.new_empty((b, h, n + q + GROW_BY, value_states.shape[-1]))
                if n:
                    kbuf[:, :, :n] = self.keys
                    vbuf[:, :, :n] = self.values
                self._kbuf, self._vbuf = kbuf, vbuf
            self._kbuf[:, :, n:n + q] = key_states
            self._vbuf[:, :, n:n + q] = value_states
            self.keys = self._kview = self._kbuf[:, :, :n + q]
            self.values = self._vview = self._vbuf[:, :, :n + q]
            return self.keys, self.values

    return GrowingLayer


def growing_cache():
    """An empty :class:`~transformers.DynamicCache` whose layers grow in place
    (:func:`growing_layer_class`)."""
    from transformers import DynamicCache

    cache = DynamicCache()
    cache.layer_class_to_replicate = growing_layer_class()
    return cache


class Cancelled(Exception):
    """Decoding was cancelled (another worker failed, or the user interrupted)."""


def greedy_decode(model, tok, prompts: list[list[int]], *, max_new_tokens: int, finished: Callable[[str], bool],
                  stop_loops: bool = True, max_rows: int | None = None,
                  progress_cb: Callable[[int], None] | None = None, stats: dict | None = None,
                  cancel: threading.Event | None = None) -> list[list[int]]:
    """The greedy continuations (token ids, EOS excluded) of ``prompts`` (token
    ids, unpadded), in order.

    At most ``max_rows`` sequences (default: all) decode together; as they
    finish, the next prompts are encoded and join the batch (their key/value
    rows left-padded to the batch's length, the padding masked), so the batch
    stays full. ``stats``, if given, receives counts of why sequences stopped and
    how many tokens were decoded; once ``cancel`` is set, :class:`Cancelled` is
    raised at the next step."""
    import torch
    import torch.nn.functional as F

    n = len(prompts)
    if n == 0:
        return []
    max_rows = max(1, min(max_rows or n, n))
    eos = eos_token_ids(getattr(model, "generation_config", None), tok)
    pad = tok.pad_token_id if tok.pad_token_id is not None else next(iter(eos), 0)
    device = getattr(model, "device", None) or torch.device("cpu")
    # transformers 5.x renamed the forward's cache argument from past_key_values to cache
    cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    # The prompts share the chat template and the instruction: that prefix is encoded once per group, for
    # one row, and copied to every row; each row's own tokens follow it, left-padded after it (masked out).
    shared = shared_prefix(prompts)
    checks = [StopChecker(tok, finished, stop_loops) for _ in range(n)]
    counts = {"answer": 0, "loop": 0, "eos": 0, "limit": 0, "tokens": 0}

    def encode(idx: list[int]):
        """Prefill prompts ``idx``: (cache, mask, last position, last logits)."""
        cache = growing_cache()
        rest = [prompts[i][shared:] for i in idx]
        width = max(len(r) for r in rest)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for j, r in enumerate(rest):
            ids[j, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[j, shared + width - len(r):] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        if shared:
            model(input_ids=torch.tensor([prompts[idx[0]][:shared]], dtype=torch.long, device=device),
                  position_ids=positions[:1, :shared], use_cache=True, logits_to_keep=1, **{cache_arg: cache})
            cache.batch_repeat_interleave(len(idx))
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions[:, shared:], use_cache=True,
                       logits_to_keep=1, **{cache_arg: cache}).logits[:, -1, :]
        return cache, mask, positions[:, -1], logits

    def join(cache, mask, extra_cache, extra_mask):
        """``cache``/``mask`` with ``extra``'s rows appended, the shorter side left-padded."""
        length = max(mask.shape[1], extra_mask.shape[1])
        for layer, other in zip(cache.layers, extra_cache.layers):
            a, b = length - layer.keys.shape[-2], length - other.keys.shape[-2]
            layer.keys = torch.cat([F.pad(layer.keys, (0, 0, a, 0)), F.pad(other.keys, (0, 0, b, 0))], dim=0)
            layer.values = torch.cat([F.pad(layer.values, (0, 0, a, 0)), F.pad(other.values, (0, 0, b, 0))], dim=0)
        return torch.cat([F.pad(mask, (length - mask.shape[1], 0)),
                          F.pad(extra_mask, (length - extra_mask.shape[1], 0))], dim=0)

    with torch.inference_mode():
        active = list(range(max_rows))  # rows of the batch tensors -> prompt index
        waiting = list(range(max_rows, n))
        cache, mask, last_pos, logits = encode(active)
        while active:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            nxt = logits.argmax(-1).tolist()
            keep: list[int] = []
            for row, i in enumerate(active):
                t = nxt[row]
                if t in eos:
                    counts["eos"] += 1
                    continue
                counts["tokens"] += 1
                why = checks[i].push(t)
                if why is None and len(checks[i].ids) >= max_new_tokens:
                    why = "limit"
                if why is not None:
                    counts[why] += 1
                    continue
                keep.append(row)
            if progress_cb and len(keep) < len(active):
                progress_cb(len(active) - len(keep))
            if not keep and not waiting:
                break
            if keep:
                if len(keep) < len(active):
                    idx = torch.tensor(keep, dtype=torch.long, device=device)
                    cache.batch_select_indices(idx)
                    mask, last_pos = mask[idx], last_pos[idx]
                    active = [active[r] for r in keep]
                step_ids = torch.tensor([[nxt[r]] for r in keep], dtype=torch.long, device=device)
                mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=device)], dim=1)
                last_pos = last_pos + 1
                logits = model(input_ids=step_ids, attention_mask=mask, position_ids=last_pos[:, None],
                               use_cache=True, **{cache_arg: cache}).logits[:, -1, :]
            else:
                active = []
            # refill once a quarter of the rows (or the last waiting prompts') are free
            free = max_rows - len(active)
            if waiting and (free >= max(1, max_rows // 4) or free >= len(waiting)):
                new, waiting = waiting[:free], waiting[free:]
                c2, m2, p2, l2 = encode(new)
                if active:
                    mask = join(cache, mask, c2, m2)
                    last_pos, logits = torch.cat([last_pos, p2]), torch.cat([logits, l2])
                    active = active + new
                else:
                    cache, mask, last_pos, logits, active = c2, m2, p2, l2, new
    if stats is not None:
        for k, v in counts.items():
            stats[k] = stats.get(k, 0) + v
    return [c.ids for c in checks]


def cpu_workers(n_batches: int) -> tuple[int, int]:
    """``(workers, threads per worker)`` for decoding ``n_batches`` batches on
    this machine's CPU cores.

    A decoding step of a small model is bound by memory traffic, not
    arithmetic: a second intra-op thread speeds one batch up little (measured
    here: 358 ms a step with two threads, 377 ms with one, at 16 rows), while
    two batches decoded side by side, one thread each, nearly double the
    throughput. So each core gets its own batch, up to four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    workers = max(1, min(n_batches, cores, 4))
    return workers, max(1, cores // workers)


def decode_batches(model, tok, batches: list[list[list[int]]], *, workers: int, threads: int,
                   **kwargs) -> list[list[list[int]]]:
    """:func:`greedy_decode` of each batch, ``workers`` batches at a time in
    threads (``threads`` intra-op threads each; the process's torch thread count
    is restored afterwards). An exception in one worker, or Ctrl+C, cancels the
    others at their next step and is raised."""
    import torch

    if workers <= 1:
        return [greedy_decode(model, tok, b, **kwargs) for b in batches]
    cancel = threading.Event()
    lock = threading.Lock()
    progress = kwargs.pop("progress_cb", None)
    stats = kwargs.pop("stats", None)

    def advance(n: int) -> None:
        if progress is not None:
            with lock:
                progress(n)

    def one(batch: list[list[int]]) -> tuple[list[list[int]], dict]:
        own: dict = {}
        return greedy_decode(model, tok, batch, progress_cb=advance, stats=own, cancel=cancel, **kwargs), own

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
    try:
        futures = [pool.submit(one, b) for b in batches]
        results = [f.result() for f in futures]
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(before)
    if stats is not None:
        for _, own in results:
            for k, v in own.items():
                stats[k] = stats.get(k, 0) + v
    return [r for r, _ in results]
