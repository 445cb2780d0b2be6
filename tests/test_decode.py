"""The scoring decoder: the same greedy tokens as ``model.generate``, early stops that
change no score, applied the same way to every model."""

import pytest
import torch

from data_agent.domain import load_domain
from data_agent.models import TINY, load_model, load_tokenizer, resolve_student
from data_agent.tasks import get_task
from data_agent.tasks.base import is_looping
from data_agent.trainers.decode import greedy_decode, stop_reason
from data_agent.trainers.evaluate import generate_outputs
from data_agent.trainers.sft import to_conversation


def _chaotic(tok):
    """A 2-layer Llama with large random weights: unlike a plainly initialised one
    (which repeats one token), each prompt gets its own continuation, so rows
    mixed up in the batch would show."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, initializer_range=0.5,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id)
    return LlamaForCausalLM(cfg).eval()


def _prompts(tok, n=5):
    d = load_domain("science")
    texts = [tok.apply_chat_template(to_conversation(d.instruction, it.input)["prompt"], tokenize=False,
                                     add_generation_prompt=True) for it in d.val_items(n)]
    return [tok(t, add_special_tokens=False)["input_ids"] for t in texts]


def _plain_generate(model, tok, prompt, max_new_tokens):
    ids = torch.tensor([prompt])
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                         do_sample=False, temperature=None, top_p=None, top_k=None, pad_token_id=tok.pad_token_id)
    new = out[0, len(prompt):].tolist()
    eos = tok.eos_token_id
    return new[:new.index(eos)] if eos in new else new


def test_same_tokens_as_model_generate_one_at_a_time(da_home):
    """Batched, left-padded, with rows leaving the batch: each row's tokens equal
    its own unbatched ``model.generate`` greedy continuation."""
    tok = load_tokenizer(resolve_student(TINY))
    model = _chaotic(tok)
    prompts = _prompts(tok)
    assert len({len(p) for p in prompts}) > 1, "the test needs prompts of different lengths (left padding)"
    ours = greedy_decode(model, tok, prompts, max_new_tokens=12, finished=lambda s: False, stop_loops=False)
    assert len({tuple(o) for o in ours}) == len(prompts)
    for p, got in zip(prompts, ours):
        assert got == _plain_generate(model, tok, p, 12)


def test_a_finished_row_leaves_and_the_others_are_unchanged(da_home):
    tok = load_tokenizer(resolve_student(TINY))
    model = _chaotic(tok)
    prompts = _prompts(tok)
    full = greedy_decode(model, tok, prompts, max_new_tokens=10, finished=lambda s: False, stop_loops=False)
    # stop row 1 after its third token: its text then ends with the decoded first three tokens
    marker = tok.decode(full[1][:3], skip_special_tokens=True)
    assert all(tok.decode(f[:k], skip_special_tokens=True) != marker for f in full[:1] + full[2:] for k in range(11))
    stats = {}
    early = greedy_decode(model, tok, prompts, max_new_tokens=10, stats=stats, stop_loops=False,
                          finished=lambda s: bool(marker) and s == marker)
    assert early[1] == full[1][:3]
    for i in (0, 2, 3, 4):
        assert early[i] == full[i]
    assert stats["answer"] >= 1 and stats["tokens"] == sum(len(o) for o in early)


class _Cycler(torch.nn.Module):
    """A stand-in model whose greedy next token cycles through ``cycle`` (a loop from the first step)."""

    def __init__(self, vocab, cycle):
        super().__init__()
        self.vocab, self.cycle, self.step = vocab, cycle, 0
        self.generation_config = None

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=True,
                logits_to_keep=0):
        logits = torch.zeros(input_ids.shape[0], 1, self.vocab)
        logits[:, :, self.cycle[self.step % len(self.cycle)]] = 1.0
        self.step += 1

        class Out:
            pass

        o = Out()
        o.logits = logits
        return o


def test_a_looping_row_stops_early_and_scores_as_it_would_at_the_limit(da_home):
    tok = load_tokenizer(resolve_student(TINY))
    cycle = tok("0.00", add_special_tokens=False)["input_ids"]
    model = _Cycler(len(tok), cycle)
    stats = {}
    out = greedy_decode(model, tok, [[1, 2, 3]], max_new_tokens=400, finished=lambda s: False, stats=stats)
    assert stats["loop"] == 1 and len(out[0]) < 100, "a digit loop decodes to the limit"
    stopped = tok.decode(out[0], skip_special_tokens=True)
    model.step = 0
    at_limit = tok.decode(greedy_decode(model, tok, [[1, 2, 3]], max_new_tokens=400, finished=lambda s: False,
                                        stop_loops=False)[0], skip_special_tokens=True)
    task = get_task("boxed_numeric")
    item = load_domain("science").val_items(1)[0]
    assert task.score_row(item, stopped)["correct"] is False
    assert task.classify(stopped, item) == task.classify(at_limit, item) == "looping"


def test_stop_reasons():
    done = get_task("boxed_numeric").finished
    assert stop_reason("so it is 3. The answer is therefore \\boxed{3}.", None, done) == "answer"
    assert stop_reason("1.01333333333333333333333333333333", "1.0" + "3" * 80, done) == "loop"
    assert stop_reason("a b c", "a b c", done) is None
    assert not is_looping("The speed is 3 m/s and the time is 2 s, so the distance is 6 m.")


def test_generate_outputs_stops_loops_only_when_asked(da_home):
    d = load_domain("science")
    items = d.val_items(3)
    stats = {}
    outs = generate_outputs(resolve_student(TINY), [i.input for i in items], d.instruction, d.task, max_new_tokens=6,
                            batch_size=2, stats=stats)
    assert len(outs) == 3
    assert stats["answer"] + stats["loop"] + stats["eos"] + stats["limit"] == 3


@pytest.mark.parametrize("bf16", [True, False])
def test_precision_follows_the_hardware(da_home, bf16, monkeypatch):
    """bf16 is used only where it is native; elsewhere fp32, and the stats say which."""
    from data_agent.trainers import evaluate

    d = load_domain("science")
    items = d.val_items(2)
    monkeypatch.setattr(evaluate, "native_bf16", lambda: bf16)
    stats = {}
    evaluate.evaluate_model(resolve_student(TINY), items, d.instruction, task=d.task, max_new_tokens=2,
                            stats=stats)
    assert stats["precision"] == ("bf16" if bf16 else "fp32")


def test_refilling_a_batch_gives_the_same_tokens(da_home):
    """Two rows at a time, a finished row replaced by the next prompt (its cache rows
    left-padded into the batch): every row still gets its own greedy continuation."""
    tok = load_tokenizer(resolve_student(TINY))
    model = _chaotic(tok)
    prompts = _prompts(tok)
    full = greedy_decode(model, tok, prompts, max_new_tokens=10, finished=lambda s: False, stop_loops=False)
    marker = tok.decode(full[0][:2], skip_special_tokens=True)  # row 0 stops after 2 tokens: an early refill
    stats = {}
    got = greedy_decode(model, tok, prompts, max_new_tokens=10, stop_loops=False, max_rows=2, stats=stats,
                        finished=lambda s: s == marker)
    assert got[0] == full[0][:2]
    assert got[1:] == full[1:]
    assert stats["answer"] == 1 and stats["limit"] == 4


@pytest.mark.parametrize("grow_by", [1, 3])
def test_the_cache_buffers_regrow_without_changing_a_token(da_home, grow_by, monkeypatch):
    """The KV buffers fill up and are reallocated every ``grow_by`` positions, and
    rows leave and join on the way (max_rows=2): each row's tokens still equal its
    own unbatched ``model.generate`` continuation."""
    from data_agent.trainers import decode

    monkeypatch.setattr(decode, "GROW_BY", grow_by)
    tok = load_tokenizer(resolve_student(TINY))
    model = _chaotic(tok)
    prompts = _prompts(tok)
    ours = greedy_decode(model, tok, prompts, max_new_tokens=9, finished=lambda s: False, stop_loops=False,
                         max_rows=2)
    for p, got in zip(prompts, ours):
        assert got == _plain_generate(model, tok, p, 9)
