"""The vLLM scoring path, as far as a machine without vLLM can test it: the request
mapping, the stop rule applied to its tokens, and the error without vLLM."""

import importlib.util

import pytest

from data_agent.config import load_config
from data_agent.domain import load_domain
from data_agent.errors import DataAgentError
from data_agent.loop import check_specs
from data_agent.models import TINY, load_model, load_tokenizer, resolve_student
from data_agent.models import eos_token_ids
from data_agent.trainers.decode import greedy_decode
from data_agent.trainers.vllm_eval import VLLM_EVAL_HINT, vllm_eval_requests, vllm_outputs

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")


class _Sampling:
    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw


class _Completion:
    def __init__(self, token_ids, finish_reason):
        self.token_ids, self.finish_reason = token_ids, finish_reason


class _Result:
    def __init__(self, token_ids, finish_reason="length"):
        self.outputs = [_Completion(token_ids, finish_reason)]


class _LLM:
    """A stand-in ``vllm.LLM`` that answers each prompt with a scripted continuation."""

    def __init__(self, replies):
        self.replies, self.calls = replies, []

    def generate(self, prompts, params, use_tqdm=True):
        self.calls.append((prompts, params.kw))
        return [_Result(*r) for r in self.replies]


def test_request_mapping_is_greedy_token_prompts():
    prompts, kw = vllm_eval_requests([[1, 2, 3], [4]], 224)
    assert prompts == [{"prompt_token_ids": [1, 2, 3]}, {"prompt_token_ids": [4]}]
    assert kw == {"temperature": 0.0, "top_p": 1.0, "max_tokens": 224, "n": 1}


def test_vllm_tokens_are_cut_by_the_same_stop_rule(da_home):
    tok = load_tokenizer(resolve_student(TINY))
    task = load_domain("science").task
    answer = tok("So v = 3 m/s. The answer is therefore \\boxed{3}. Then more text after", add_special_tokens=False)["input_ids"]
    loop = tok("1.0" + "3" * 300, add_special_tokens=False)["input_ids"]
    plain = tok("no answer here", add_special_tokens=False)["input_ids"]
    llm = _LLM([(answer,), (loop,), (plain + [tok.eos_token_id], "stop"), (plain, "stop")])
    stats = {}
    outs = vllm_outputs("unused", [[1], [2], [3], [4]], max_new_tokens=400, tok=tok, finished=task.finished,
                        eos={tok.eos_token_id}, llm=llm, sampling_module=_Sampling, stats=stats)
    assert llm.calls[0][1]["max_tokens"] == 400 and llm.calls[0][1]["temperature"] == 0.0
    text = tok.decode(outs[0], skip_special_tokens=True)
    assert text.endswith("\\boxed{3}.") and "more text" not in text
    assert len(outs[1]) < len(loop)
    assert outs[2] == plain and outs[3] == plain
    assert stats == {"answer": 1, "loop": 1, "eos": 2, "limit": 0, "tokens": sum(map(len, outs))}


def test_the_cut_matches_our_own_decoder(da_home):
    """A continuation from another engine, replayed through the stop rule, is what
    greedy_decode keeps for the same tokens."""
    path = resolve_student(TINY)
    tok, model = load_tokenizer(path), load_model(path).eval()
    prompt = tok("Question: 2 + 2?", add_special_tokens=False)["input_ids"]
    ours = greedy_decode(model, tok, [prompt], max_new_tokens=20, finished=lambda s: False)[0]
    llm = _LLM([(ours + [5, 6, 7],)])
    got = vllm_outputs("unused", [prompt], max_new_tokens=20, tok=tok, finished=lambda s: False,
                       eos=eos_token_ids(model.generation_config, tok), llm=llm, sampling_module=_Sampling)
    assert got[0] == (ours + [5, 6, 7])[:len(got[0])] and got[0][:len(ours)] == ours


def test_without_vllm_it_is_a_clear_error():
    with pytest.raises(DataAgentError, match="needs vLLM"):
        vllm_outputs("m", [[1]], max_new_tokens=4, tok=None, finished=lambda s: False, eos=set())


def test_a_run_with_the_vllm_backend_fails_before_any_work():
    cfg = load_config("smoke", overrides={"eval.backend": "vllm"})
    with pytest.raises(DataAgentError) as e:
        check_specs(cfg)
    assert str(e.value) == VLLM_EVAL_HINT


def test_a_bad_backend_is_a_config_error():
    from data_agent.config import ConfigError

    with pytest.raises(ConfigError, match="eval.backend"):
        load_config("smoke", overrides={"eval.backend": "tensorrt"})
