"""A teacher session on an LLM (any spec but ``symbolic``).

:class:`LLMSession` has the interface of
:class:`~data_agent.generators.engine.symbolic_session.SymbolicSession` (``call``, ``build``,
``topics``, ``note``, ``usage``):

* ``build`` turns (topic, difficulty, attempt, seed, iteration) into a
  :class:`TeacherRequest` from the domain's prompt template
  (:mod:`data_agent.generators.prompts`) on one of the pack's skills
  (:meth:`~data_agent.domain.Domain.skills`), grounded in two of the pack's seed
  problems and asking for the JSON document of the domain's task
  (:attr:`~data_agent.tasks.Task.problem_schema`);
* ``call`` runs requests through the one :class:`TeacherRunner` (concurrency,
  rate limits, retries, circuit breaker, SQLite response cache under
  ``$DATA_AGENT_HOME/cache/teacher.sqlite``, budgets, cost meter);
* garbled replies come back as responses with ``error`` set (or unparsable
  text) and become counted rejections in
  :func:`~data_agent.generators.generate.parse_problem_reply`. Online
  teachers are wrapped in :class:`~data_agent.generators.engine.client.ContentTolerantTeacher`, so that a garbled
  reply is re-asked (bounded) instead of retried with backoff, and does not
  count towards the circuit breaker, which is for transport failures.

The runner and the teacher's network client live on one background event
loop owned by the session, so the many short ``asyncio.run`` calls of the
generation loop all reuse the same connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import threading
from pathlib import Path
from typing import Any

from ...domain import Domain, ngram_hashes
from ...plan import TopicInfo
from ...errors import DataAgentError
from ..prompts import pick_examples, render_messages, template_for
from ...validators.verify import COMPUTATION_PROMPT, with_computation
from ..teachers.base import SamplingParams, TeacherRequest, TeacherResponse, parse_json_text
from ..teachers.prices import PriceTable
from ..teachers.specs import parse_spec
from .budget import Budget, BudgetExceeded
from .client import TeacherClient, default_runner_config
from .runner import CircuitOpen, RunnerConfig, run_interruptible

__all__ = ["LLMSession", "TeacherStopped", "SOLUTION_SCHEMA"]

SOLUTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"solution": {"type": "string", "minLength": 5}},
    "required": ["solution"],
    "additionalProperties": False,
}
"""The reply to a self-consistency request: a worked solution ending with the task's answer line."""


class TeacherStopped(DataAgentError):
    """The runner stopped the teacher (budget exhausted or circuit breaker open).
    Completed responses are cached: ``data-agent resume`` continues from them."""


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="teacher-session-loop", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


class LLMSession:
    """Teacher session for an LLM spec.

    Args:
        spec: a model spec (see :mod:`data_agent.generators.teachers.specs`), not ``symbolic``.
        domain: the domain pack (prompt template, seed problems, instruction).
        run_dir: the run directory (batch teachers keep their state under ``run_dir/teacher``).
        runner_config: runner settings
            (:func:`~data_agent.generators.engine.client.default_runner_config` if ``None``).
        budget: spending limits (unlimited if ``None``).
        cache_dir: folder of ``teacher.sqlite`` (default ``$DATA_AGENT_HOME/cache``).
        use_cache: look up and store responses in the cache.
        prices: price table (``PriceTable.load()`` if ``None``).
        teacher: an already built teacher (tests); built from ``spec`` otherwise.
        teacher_options: extra backend constructor arguments (e.g. ``{"timeout": 30}``).
        temperature: sampling temperature of the requests.
        max_tokens: completion budget of one request.
        example_chars: characters kept of each style example's problem and
            solution (default 1200; 300 for ``hf:`` models, which get the
            compact prompt: their CPU time grows with the prompt).
    """

    def __init__(self, spec: str, domain: Domain, run_dir: str | Path, *, runner_config: RunnerConfig | None = None,
                 budget: Budget | None = None, cache_dir: str | Path | None = None, use_cache: bool = True,
                 prices: PriceTable | None = None, teacher: Any = None,
                 teacher_options: dict[str, Any] | None = None, temperature: float = 0.8, max_tokens: int = 1024,
                 example_chars: int | None = None, verify: str = "when_given"):
        self.spec = parse_spec(spec)
        if self.spec.kind == "symbolic":
            raise DataAgentError("the symbolic teacher has its own session (SymbolicSession)")
        self.domain = domain
        self.run_dir = Path(run_dir)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.example_chars = example_chars if example_chars is not None else (300 if self.spec.kind == "hf" else 1200)
        # A computation to recompute the answer with, asked of every teacher but the small local ones (their
        # grammar fixes the document's fields) when the task verifies by computation.
        self.ask_computation = (verify != "off" and domain.task.verification == "computation"
                                and self.spec.kind != "hf")
        # The meter is kept in the run directory: a resumed run's budgets count what was spent before.
        client = TeacherClient(self.spec, runner_config or default_runner_config(self.spec),
                               meter_path=self.run_dir / "teacher" / "meter.json", budget=budget,
                               cache_dir=cache_dir, use_cache=use_cache, prices=prices)
        self.prices, self.cache, self.meter, self.budget = client.prices, client.cache, client.meter, client.budget
        self.teacher = client.wrap(teacher) if teacher is not None else client.build_teacher(
            state_dir=self.run_dir / "teacher", **(teacher_options or {}))
        self.runner = client.runner(self.teacher)
        self.template = template_for(domain.name)
        self.seeds = self._style_seeds(domain)
        self._topics = domain.skills()
        self._loop: _LoopThread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LLMSession({str(self.spec)!r})"

    # ------------------------------------------------------------------ requests

    @staticmethod
    def _style_seeds(domain: Domain) -> list[dict[str, Any]]:
        """The pack's seed problems, minus any sharing an n-gram with the
        validation or test problems or containing most of one (the pack's
        containment threshold over its per-item fingerprints): defence in
        depth, seeds are style examples, never evaluation items."""
        from ...fingerprints import shingles
        from ...validators import DEFAULT_CONTAINMENT

        seeds = domain.seeds()
        try:
            hashes, n = domain.contamination_hashes(), domain.decontamination_n
        except (OSError, KeyError, ValueError):
            return seeds
        fp = domain.fingerprints
        limit = domain.decontamination_threshold("containment", DEFAULT_CONTAINMENT)

        def clean(text: str) -> bool:
            if ngram_hashes(text, n) & hashes:
                return False
            return fp is None or not len(fp) or float(fp.containments(shingles(text)).max()) < limit

        return [s for s in seeds if clean(domain.task.seed_view(s)["problem"])]

    def use_plan(self, plan: Any) -> None:
        """Take the plan's allocations' own parts: a new skill's description,
        teacher guidance and grounding seeds (by topic and difficulty)."""
        self._extras = {}
        for a in plan.allocations:
            if a.topic not in self._topics and a.description:
                self._topics[a.topic] = TopicInfo(subject=a.subject, sources=[], description=a.description)
            self._extras[(a.topic, a.difficulty)] = {"guidance": a.guidance, "seeds": list(a.seeds)}

    def build(self, topic: str, difficulty: int, attempt: int, seed: int, iteration: int) -> TeacherRequest:
        """The request for one new problem on ``topic`` at ``difficulty``."""
        info = self._topics.get(topic)
        subject = info.subject if info else ""
        extra = getattr(self, "_extras", {}).get((topic, difficulty), {})
        by_id = {str(s.get("id", "")): s for s in self.seeds}
        grounded = [by_id[i] for i in extra.get("seeds", []) if i in by_id]
        examples = grounded[:2] if grounded else pick_examples(self.seeds, info.sources if info else [], seed)
        if len(grounded) > 2:  # more than two named: a different pair per request
            examples = random.Random(f"grounded:{seed}").sample(grounded, 2)
        messages = render_messages(self.template, self.domain.task, domain=self.domain.name,
                                   instruction=self.domain.instruction, topic=topic, subject=subject,
                                   difficulty=difficulty, seed=seed, examples=examples,
                                   example_chars=self.example_chars, compact=self.spec.kind == "hf",
                                   topic_description=info.description if info else "")
        meta = {"template": f"llm:{topic}", "topic": topic, "subject": subject, "difficulty": difficulty,
                "attempt": attempt, "seed": seed, "iteration": iteration,
                "examples": [str(e.get("id", "")) for e in examples]}
        schema = self.domain.task.problem_schema
        if extra.get("guidance"):
            messages = (messages[0], {"role": "user", "content": f"{messages[1]['content']}\n\nGuidance from the "
                                                                  f"data engineer: {extra['guidance']}"})
            meta["guidance"] = True
        if self.ask_computation:
            schema = with_computation(schema)
            messages = (messages[0], {"role": "user", "content": f"{messages[1]['content']}\n\n{COMPUTATION_PROMPT}"})
        return TeacherRequest(messages=messages,
                              params=SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens,
                                                    seed=seed),
                              json_schema=schema, metadata=meta)

    def solve_request(self, record: Any, j: int) -> TeacherRequest:
        """The ``j``-th independent solution of a record's problem (self-consistency):
        the problem alone, never its answer or solution."""
        task = self.domain.task
        subject = record.subject or self.domain.name
        messages = (
            {"role": "system", "content": f"You solve {subject} problems step by step and check your arithmetic. "
                                          "You reply with one JSON object and nothing else."},
            {"role": "user", "content": f"{self.domain.instruction}\n\nProblem:\n{record.input}\n\n"
                                        f"Reply with only the JSON object {{\"solution\": \"<your worked solution "
                                        f"{task.answer_rule}>\"}}"},
        )
        seed = int(hashlib.sha256(f"solve:{record.input}:{j}".encode()).hexdigest()[:8], 16)
        return TeacherRequest(messages=messages,
                              params=SamplingParams(temperature=max(self.temperature, 0.7),
                                                    max_tokens=self.max_tokens, seed=seed),
                              json_schema=SOLUTION_SCHEMA, metadata={"role": "solver", "record": record.id, "j": j})

    def solve(self, records: list[Any], n: int) -> list[list[Any]]:
        """``n`` independent answers to each record's problem (``None`` for a
        garbled reply or one without a readable answer), all in one batch."""
        reqs = [self.solve_request(r, j) for r in records for j in range(n)]
        responses = self.call_sync(reqs) if reqs else []
        out: list[list[Any]] = []
        for k in range(len(records)):
            answers = []
            for resp in responses[k * n:(k + 1) * n]:
                doc = resp.parsed
                if doc is None and not resp.error:
                    try:
                        doc = parse_json_text(resp.text or "")
                    except ValueError:
                        doc = None
                sol = doc.get("solution") if isinstance(doc, dict) else None
                answers.append(self.domain.task.extract(sol) if isinstance(sol, str) else None)
            out.append(answers)
        return out

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = _LoopThread()
            return self._loop.loop

    async def call(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        """Answer ``requests`` in order through the runner.

        Raises:
            TeacherStopped: a budget is exhausted or the circuit breaker opened.
        """
        self.meter.record_requests(len(requests))
        loop = self._ensure_loop()
        try:
            if asyncio.get_running_loop() is loop:
                return await self.runner.run(requests)
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.runner.run(requests), loop))
        except (BudgetExceeded, CircuitOpen) as e:
            raise TeacherStopped(f"teacher {self.spec} stopped: {e} ({self.meter.summary()})") from None
        finally:
            self.meter.save()

    def call_sync(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        """Blocking :meth:`call` (from a thread without a running loop)."""
        return run_interruptible(self.call(requests))

    # ----------------------------------------------------------------- interface

    def topics(self) -> dict[str, TopicInfo]:
        """Topics the engineer can allocate: the pack's skills."""
        return dict(self._topics)

    def note(self) -> str:
        """Live counters for the progress bar."""
        return self.meter.summary()

    def usage(self) -> dict[str, Any]:
        """Run totals (for ``generation.json`` and ``metrics.json``)."""
        c = self.meter.total
        return {
            "teacher": str(self.spec),
            "requests": c.requests,
            "calls": c.calls,
            "tokens": c.tokens,
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "dollars": round(c.spent_dollars, 6),
            "cache_hits": c.cache_hits,
            "failures": c.failures,
            "billed_failures": c.billed_failures,
            "errors": c.errors,
            "retries": c.retries,
            "reasks": c.reasks,
            "interrupted": c.interrupted,
            "iteration": self.meter.iteration.to_dict(),
        }

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close the teacher's client, the cache and the background loop."""
        with self._lock:
            lt, self._loop = self._loop, None
        aclose = getattr(self.teacher, "aclose", None)
        if lt is not None:
            if aclose is not None:
                try:
                    asyncio.run_coroutine_threadsafe(aclose(), lt.loop).result(timeout=10)
                except Exception:  # noqa: BLE001 - closing must not fail a finished run
                    pass
            lt.stop()
        self.meter.save()
        if self.cache is not None:
            self.cache.close()
            self.cache = None
            self.runner.cache = None

    def __enter__(self) -> "LLMSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
