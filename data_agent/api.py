"""Library calls behind CLI commands that are not part of the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .domain import load_domain, unsealed_test
from .errors import DataAgentError
from .export import export as _export
from .records import atomic_write_json
from .trainers.evaluate import evaluate_model, read_predictions, score_outputs
from .ui import Reporter


def evaluate(domain: str, *, split: str = "val", predictions: Path | None = None, model: str | None = None,
             limit: int | None = None, max_new_tokens: int = 192, output: Path | None = None,
             reporter: Reporter | None = None) -> dict[str, Any]:
    """Score ``predictions`` (JSONL of id/output, no model loaded) or a ``model`` on a split;
    generating with a model shows its progress on ``reporter``.

    Reading the test split here is an explicit request by the user, outside any run."""
    dom = load_domain(domain)
    if split not in ("val", "test"):
        raise DataAgentError(f"unknown split {split!r} (expected 'val' or 'test')")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DataAgentError(f"--limit must be a positive number of problems, got {limit!r}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise DataAgentError(f"--max-new-tokens must be a positive number of tokens, got {max_new_tokens!r}")
    if (predictions is None) == (model is None):
        raise DataAgentError("give exactly one of --predictions FILE or --model NAME")
    if split == "test":
        with unsealed_test("evaluate command (--split test, asked for by the user)"):
            items = dom.test_items(limit)
    else:
        items = dom.val_items(limit)
    if predictions is not None:
        preds = read_predictions(predictions)
        known = {i.id for i in items}
        unknown = [k for k in preds if k not in known]
        if unknown and limit is None:
            raise DataAgentError(f"{predictions}: id {unknown[0]!r} is not in the {split} split of {dom.name}")
        metrics, rows = score_outputs(items, preds, dom.task)
        missing = sum(1 for i in items if i.id not in preds)
    else:
        from .models import resolve_student

        path = resolve_student(model)
        with (reporter or Reporter()).counting(f"{dom.name} / {split}: generating", len(items)) as advance:
            metrics, rows = evaluate_model(path, items, dom.instruction, task=dom.task,
                                           max_new_tokens=max_new_tokens, progress_cb=advance)
        missing = 0
    m = metrics.to_dict()
    m["split"] = split
    m["missing"] = missing
    result = {"metrics": m, "items": rows}
    if output:
        atomic_write_json(Path(output), result)
    return result


def export(run_dir: Path, *, to: Path, format: str = "parquet", what: str = "submission", all_iterations: bool = False,
           push_to_hub: str | None = None, private: bool = False, hub_api: Any = None) -> Any:
    """Write a run's data to the folder ``to`` as a Hugging Face dataset with a
    dataset card (``README.md``), optionally pushed to the Hub; returns the
    :class:`datasets.DatasetDict`. See :func:`data_agent.export.export`."""
    return _export(run_dir, to, format=format, what=what, all_iterations=all_iterations, push_to_hub=push_to_hub,
                   private=private, hub_api=hub_api)
