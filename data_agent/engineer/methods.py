"""Method cards: the data-engineering methods an engineer chooses from, one
card per method, in three buckets (``generation``, ``curation``,
``selection``), shipped as JSON files in ``data_agent/engineer/cards/``.

Each card has an ``id``, a ``title``, the ``idea``, ``when`` it helps, its
``knobs``, its ``failure_modes`` and a ``citation``. A plan names the card it
applies and how it adapts it (``method``: ``{"card", "bucket", "adaptation"}``).
With ``--scaffold adapt`` (the default for LLM engineers) every plan must cite
a card and, when validation did not improve, take it from another bucket than
the last plan's; the heuristic engineer chooses by rule
(:func:`heuristic_card`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Mapping

from ..errors import DataAgentError

__all__ = ["BUCKETS", "Card", "CardError", "cards", "card", "heuristic_card", "family"]

BUCKETS = ("generation", "curation", "selection")
_FIELDS = ("id", "title", "idea", "when", "knobs", "failure_modes", "citation")


class CardError(DataAgentError):
    """A malformed card file, or an unknown card id."""


@dataclass(frozen=True)
class Card:
    id: str
    bucket: str
    title: str
    idea: str
    when: str
    knobs: tuple[str, ...]
    failure_modes: tuple[str, ...]
    citation: str

    def brief(self) -> str:
        """One line for a prompt: id, bucket, the idea and when it helps."""
        return f"{self.id} [{self.bucket}]: {self.idea} When: {self.when}"


def _load(name: str, text: str) -> list[Card]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise CardError(f"cards/{name}:{e.lineno}: malformed JSON ({e.msg})") from None
    bucket = doc.get("bucket") if isinstance(doc, dict) else None
    if bucket not in BUCKETS:
        raise CardError(f"cards/{name}: 'bucket' must be one of {', '.join(BUCKETS)}, got {bucket!r}")
    out = []
    for k, c in enumerate(doc.get("cards") or []):
        missing = [f for f in _FIELDS if not c.get(f)]
        if missing:
            raise CardError(f"cards/{name}: card {k}: missing {', '.join(missing)}")
        out.append(Card(id=str(c["id"]), bucket=bucket, title=str(c["title"]), idea=str(c["idea"]),
                        when=str(c["when"]), knobs=tuple(map(str, c["knobs"])),
                        failure_modes=tuple(map(str, c["failure_modes"])), citation=str(c["citation"])))
    return out


@functools.cache
def cards() -> dict[str, Card]:
    """Every shipped card by id (the files under ``data_agent/engineer/cards/``)."""
    out: dict[str, Card] = {}
    for f in sorted(resources.files(__package__).joinpath("cards").iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        for c in _load(f.name, f.read_text(encoding="utf-8")):
            if c.id in out:
                raise CardError(f"cards/{f.name}: duplicate card id {c.id!r}")
            out[c.id] = c
    return out


def card(card_id: str) -> Card:
    try:
        return cards()[card_id]
    except KeyError:
        raise CardError(f"unknown method card {card_id!r} (known: {', '.join(sorted(cards()))})") from None


def family(method: Mapping[str, Any] | None) -> str:
    """The method family a plan's ``method`` belongs to: its card's id (``""`` for none)."""
    return str((method or {}).get("card", ""))


def improved(vals: list[Mapping[str, Any]]) -> bool:
    """Whether the last validation result beat every earlier one (``vals``: base first)."""
    if len(vals) < 2:
        return True
    return vals[-1]["accuracy"] > max(v["accuracy"] for v in vals[:-1])


def plateau(vals: list[Mapping[str, Any]]) -> tuple[int, Mapping[str, Any]]:
    """``(iterations in a row without a gain beyond the interval, the best result)``
    over ``vals`` (the base student's validation metrics first, then each finished
    iteration's). An iteration gains beyond the interval when its accuracy is above
    the upper end of the 95% CI of the best accuracy before it."""
    best, since = vals[0], 0
    for v in vals[1:]:
        hi = (best.get("accuracy_ci95") or [None, best["accuracy"]])[1]
        if v["accuracy"] > hi:
            best, since = v, 0
        else:
            since += 1
            if v["accuracy"] > best["accuracy"]:
                best = v
    return since, best


def heuristic_card(iteration: int, base_val: Mapping[str, Any] | None, history: list[Mapping[str, Any]]
                   ) -> tuple[str, str]:
    """The card the heuristic engineer applies, by rule, and how (its adaptation):

    * while validation format compliance is below 0.5: ``format-drills``;
    * once the format is learned: ``failure-targeted`` (budget to the sources
      with the most wrong answers), ``curriculum`` when a source is saturated;
    * when the last iteration did not improve validation accuracy: a card from
      another bucket than the last plan's (selection: ``k-center`` or
      ``loss-el2n``; curation: ``rejection-sampling``).
    """
    vals = [base_val or {"accuracy": 0.0, "format_compliance": 0.0}] + [h["val"] for h in history]
    last = vals[-1]
    prev_bucket = ""
    if history:
        prev_bucket = str((history[-1]["plan"].get("method") or {}).get("bucket", ""))
    if history and not improved(vals):
        if prev_bucket != "selection":
            used = {family(h["plan"].get("method")) for h in history}
            pick = "loss-el2n" if "k-center" in used else "k-center"
            return pick, (f"validation accuracy did not improve ({last['accuracy']:.3f}): rotate from the "
                          f"{prev_bucket or 'generation'} bucket to selection; over-generate x2 and keep "
                          + ("the records the current student finds hardest" if pick == "loss-el2n"
                             else "the most diverse inputs"))
        return "rejection-sampling", (f"validation accuracy did not improve ({last['accuracy']:.3f}) after a "
                                      "selection method: rotate to curation; over-generate x1.5 and keep verified "
                                      "records first")
    fmt = float(last.get("format_compliance") or 0.0)
    if fmt < 0.5:
        return "format-drills", (f"validation format compliance is {fmt:.2f}: one-step problems (difficulty 1) "
                                 "whose solutions end with the exact answer line")
    per = last.get("per_source") or {}
    if any(float(m.get("accuracy", 0)) >= 0.5 for m in per.values()):
        return "curriculum", "raise difficulty on the topics whose sources are saturated (accuracy 0.5 or more)"
    return "failure-targeted", (f"format learned ({fmt:.2f}): move budget to the sources with the most wrong "
                                "validation answers")
