"""Training and evaluation on a tiny Llama built from a config (never the hub)."""

import json

import pytest

from data_agent.domain import load_domain
from data_agent.trainers.evaluate import evaluate_model, generate_outputs
from data_agent.config import TrainConfig
from data_agent.trainers.sft import TrainingError, train
from data_agent.models import TINY, load_tokenizer, resolve_student


def _records(n=4):
    d = load_domain("science")
    return [{"instruction": d.instruction, "input": f"A car moves at {k + 1} m/s for 2 s. How far does it go?",
             "output": f"d = vt = {2 * (k + 1)} m.\nThe answer is therefore \\boxed{{{2 * (k + 1)}.000}}."}
            for k in range(n)]


@pytest.mark.parametrize("method", ["full", "lora"])
def test_train_tiny_student(tmp_path, da_home, method):
    student = resolve_student(TINY)
    cfg = TrainConfig(method=method, num_train_epochs=3, learning_rate=1e-2, per_device_train_batch_size=4,
                      max_length=256, warmup_ratio=0.0)
    steps = []
    stats = train(student, _records(), tmp_path / "model", cfg, progress_cb=lambda s, t: steps.append((s, t)))
    assert (tmp_path / "model" / "config.json").is_file()
    assert stats["steps"] == 3 and steps[-1] == (3, 3)
    assert stats["last_loss"] < stats["first_loss"], "training did not reduce the loss"
    # a LoRA model is merged: it loads as a plain model
    cfg_json = json.loads((tmp_path / "model" / "config.json").read_text())
    assert cfg_json["num_hidden_layers"] == 2
    assert not (tmp_path / "model" / "adapter_config.json").exists()


def test_loss_only_on_the_assistant_part(tmp_path, da_home):
    """The labels mask the prompt: only assistant tokens (and its end token) carry loss."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from data_agent.trainers.sft import to_conversation
    from data_agent.models import load_model

    student = resolve_student(TINY)
    tok = load_tokenizer(student)
    r = _records(1)[0]
    ds = Dataset.from_list([to_conversation(r["instruction"], r["input"], r["output"])])
    args = SFTConfig(output_dir=str(tmp_path / "w"), report_to=[], use_cpu=True, max_length=512)
    trainer = SFTTrainer(model=load_model(student), args=args, train_dataset=ds, processing_class=tok)
    ex = trainer.train_dataset[0]
    kept = tok.decode([t for t, lab in zip(ex["input_ids"], ex["labels"]) if lab != -100])
    assert "The answer is therefore" in kept
    assert "How far does it go" not in kept


def test_empty_loss_mask_is_refused(tmp_path, da_home):
    recs = _records(2)
    recs[0]["input"] = "word " * 400  # the prompt alone fills max_length
    with pytest.raises(TrainingError, match="empty loss mask"):
        train(resolve_student(TINY), recs, tmp_path / "m", TrainConfig(method="full", max_length=128,
                                                                         num_train_epochs=1))


def test_generate_and_score_in_input_order(da_home):
    d = load_domain("science")
    items = d.val_items(5)
    outs = generate_outputs(resolve_student(TINY), [i.input for i in items], d.instruction, d.task, max_new_tokens=4,
                            batch_size=2)
    assert len(outs) == 5 and all(isinstance(o, str) for o in outs)
    m, rows = evaluate_model(resolve_student(TINY), items, d.instruction, task=d.task, max_new_tokens=4, batch_size=2,
                             cache=True)
    assert [r["id"] for r in rows] == [i.id for i in items]
    assert m.n == 5
    # cached the second time: same outputs
    m2, rows2 = evaluate_model(resolve_student(TINY), items, d.instruction, task=d.task, max_new_tokens=4, batch_size=2,
                               cache=True)
    assert [r["output"] for r in rows2] == [r["output"] for r in rows]


def test_evaluate_with_a_model_reports_progress(da_home):
    """``data-agent evaluate --model`` generates for minutes on a CPU: it shows its progress."""
    import contextlib

    from data_agent.api import evaluate
    from data_agent.ui import Reporter

    class Recording(Reporter):
        def __init__(self):
            self.steps, self.updates = [], []

        @contextlib.contextmanager
        def progress(self, description, total):
            self.steps.append((description, total))
            yield lambda completed=None, **kw: self.updates.append(completed)

    rep = Recording()
    result = evaluate("science", split="val", model=TINY, limit=3, max_new_tokens=2, reporter=rep)
    assert result["metrics"]["n"] == 3
    assert rep.steps == [("science / val: generating", 3)] and rep.updates and rep.updates[-1] == 3
