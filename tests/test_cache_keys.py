"""The response cache's key: everything that changes a teacher's answer changes it.

``TeacherRequest.cache_key(backend, model)`` hashes the backend, the model,
the messages, every sampling parameter, the JSON schema and ``key_extra``; a
field left out would let one model's (or one temperature's) answers be served
for another. ``metadata`` is caller data and is no part of it.
"""

from __future__ import annotations

import dataclasses

import pytest

from data_agent.generators.engine.cache import ResponseCache
from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner
from data_agent.generators.teachers.base import OnlineTeacher, SamplingParams, TeacherRequest, TeacherResponse, Usage
from data_agent.generators.teachers.prices import PriceTable
from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA

BASE = TeacherRequest(messages=({"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}),
                      params=SamplingParams(temperature=0.7, max_tokens=256, top_p=0.9, seed=1, stop=("\n\n",)),
                      json_schema=PROBLEM_SCHEMA, metadata={"topic": "t"}, key_extra="x")
KEY = BASE.cache_key("openai", "gpt-a")

OTHER_SCHEMA = {**PROBLEM_SCHEMA, "required": [*PROBLEM_SCHEMA["required"], "extra"]}


def _params(**change) -> SamplingParams:
    return dataclasses.replace(BASE.params, **change)


VARIANTS = {
    "model": lambda: BASE.cache_key("openai", "gpt-b"),
    "backend": lambda: BASE.cache_key("anthropic", "gpt-a"),
    "temperature": lambda: dataclasses.replace(BASE, params=_params(temperature=0.0)).cache_key("openai", "gpt-a"),
    "max_tokens": lambda: dataclasses.replace(BASE, params=_params(max_tokens=257)).cache_key("openai", "gpt-a"),
    "top_p": lambda: dataclasses.replace(BASE, params=_params(top_p=1.0)).cache_key("openai", "gpt-a"),
    "seed": lambda: dataclasses.replace(BASE, params=_params(seed=2)).cache_key("openai", "gpt-a"),
    "seed unset": lambda: dataclasses.replace(BASE, params=_params(seed=None)).cache_key("openai", "gpt-a"),
    "stop": lambda: dataclasses.replace(BASE, params=_params(stop=("\n",))).cache_key("openai", "gpt-a"),
    "no stop": lambda: dataclasses.replace(BASE, params=_params(stop=())).cache_key("openai", "gpt-a"),
    "schema": lambda: dataclasses.replace(BASE, json_schema=OTHER_SCHEMA).cache_key("openai", "gpt-a"),
    "no schema": lambda: dataclasses.replace(BASE, json_schema=None).cache_key("openai", "gpt-a"),
    "user message": lambda: dataclasses.replace(
        BASE, messages=(BASE.messages[0], {"role": "user", "content": "q2"})).cache_key("openai", "gpt-a"),
    "system message": lambda: dataclasses.replace(
        BASE, messages=({"role": "system", "content": "be long"}, BASE.messages[1])).cache_key("openai", "gpt-a"),
    "role": lambda: dataclasses.replace(
        BASE, messages=(BASE.messages[0], {"role": "assistant", "content": "q"})).cache_key("openai", "gpt-a"),
    "one message fewer": lambda: dataclasses.replace(BASE, messages=BASE.messages[1:]).cache_key("openai", "gpt-a"),
    "key_extra": lambda: dataclasses.replace(BASE, key_extra="y").cache_key("openai", "gpt-a"),
}


@pytest.mark.parametrize("field", sorted(VARIANTS))
def test_every_field_that_changes_the_answer_changes_the_key(field: str) -> None:
    assert VARIANTS[field]() != KEY, f"changing the {field} leaves the cache key as it was"


def test_the_variants_are_all_different_keys() -> None:
    keys = [VARIANTS[f]() for f in sorted(VARIANTS)]
    assert len(set(keys)) == len(keys)


def test_the_key_is_stable_and_ignores_metadata() -> None:
    same = TeacherRequest(messages=tuple(dict(m) for m in BASE.messages), params=_params(),
                          json_schema=dict(PROBLEM_SCHEMA), metadata={"topic": "other", "attempt": 9}, key_extra="x")
    assert same.cache_key("openai", "gpt-a") == KEY
    assert len(KEY) == 64 and int(KEY, 16) >= 0  # a SHA-256 hex digest


class _Teacher(OnlineTeacher):
    backend = "fake"

    def __init__(self, model: str):
        self.model = model
        self.calls = 0

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        self.calls += 1
        return TeacherResponse(text=f"answer of {self.model}", usage=Usage(3, 2))


def test_a_cached_answer_of_one_model_is_not_served_for_another(tmp_path) -> None:
    cache = ResponseCache(tmp_path / "teacher.sqlite")
    cfg = RunnerConfig(max_retries=0, timeout=5.0)
    prices = PriceTable({})
    request = dataclasses.replace(BASE, json_schema=None)

    a = _Teacher("model-a")
    out = TeacherRunner(a, cfg, cache=cache, prices=prices).run_sync([request])
    assert a.calls == 1 and out[0].text == "answer of model-a" and not out[0].cached
    again = TeacherRunner(_Teacher("model-a"), cfg, cache=cache, prices=prices).run_sync([request])
    assert again[0].cached and again[0].text == "answer of model-a"  # the same model: a hit

    b = _Teacher("model-b")
    out = TeacherRunner(b, cfg, cache=cache, prices=prices).run_sync([request])
    assert b.calls == 1, "model-b was served model-a's cached answer"
    assert out[0].text == "answer of model-b" and not out[0].cached
    assert cache.stats()["by_model"] == {"fake:model-a": 1, "fake:model-b": 1}
    cache.close()
