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


BF16_LOSS_TOLERANCE = 0.05
"""bf16 autocast vs fp32 on the same data: the final loss may differ by this share (README, "Speed")."""


def test_bf16_autocast_follows_the_fp32_loss_curve(tmp_path, da_home, monkeypatch):
    """Where bf16 is native the trainer autocasts to it; on the same data its loss
    curve follows fp32's: the same trend, the final loss within the stated tolerance.
    (Forced here, on a CPU that may only emulate bf16: the tiny model makes that cheap.)"""
    from data_agent.trainers import sft

    cfg = TrainConfig(method="full", num_train_epochs=4, learning_rate=3e-3, per_device_train_batch_size=2,
                      max_length=256, warmup_ratio=0.0, lr_scheduler_type="constant")
    curves = {}
    for native in (False, True):
        monkeypatch.setattr(sft, "native_bf16", lambda: native)
        stats = train(resolve_student(TINY), _records(4), tmp_path / f"m{native}", cfg)
        assert stats["precision"] == ("bf16" if native else "fp32")
        curves[native] = stats["losses"]
    fp32, bf16 = curves[False], curves[True]
    assert len(fp32) == len(bf16) == 8
    assert fp32[-1] < fp32[0] and bf16[-1] < bf16[0], "the loss did not fall"
    assert abs(bf16[-1] - fp32[-1]) <= BF16_LOSS_TOLERANCE * fp32[-1], (fp32, bf16)


def test_lora_on_the_top_layers_only(tmp_path, da_home):
    """lora_layers=K puts adapters on the top K layers; the merged model loads as a plain one."""
    from data_agent.trainers.sft import linear_module_names
    from data_agent.models import load_model

    student = resolve_student(TINY)
    assert linear_module_names(load_model(student)) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj",
                                                        "up_proj", "v_proj"]
    before = load_model(student).state_dict()
    cfg = TrainConfig(method="lora", num_train_epochs=2, learning_rate=5e-2, per_device_train_batch_size=4,
                      max_length=256, warmup_ratio=0.0, lora_layers=1, batching="group_by_length")
    stats = train(student, _records(), tmp_path / "model", cfg)
    after = load_model(tmp_path / "model").state_dict()
    changed = {k for k in before if not torch_equal(before[k], after[k])}
    assert changed and all(k.startswith("model.layers.1.") for k in changed), sorted(changed)
    assert stats["batching"] == "group_by_length" and stats["tokens_per_second"] > 0


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))
