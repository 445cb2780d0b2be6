"""Supervised fine-tuning of the student with TRL's SFTTrainer (+ PEFT LoRA).

Records become conversational prompt/completion pairs (user: instruction + input;
assistant: output), so TRL computes the loss on the assistant part only; before
training we check that no example's loss mask is empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

from ..config import TrainConfig
from ..errors import DataAgentError
from ..models import load_model, load_tokenizer, native_bf16


class TrainingError(DataAgentError):
    """Training could not run (empty loss mask, bad data...)."""


def to_conversation(instruction: str, input_text: str, output: str | None = None) -> dict[str, Any]:
    """A submission record as TRL's conversational prompt/completion example."""
    user = f"{instruction}\n\n{input_text}" if input_text else instruction
    ex: dict[str, Any] = {"prompt": [{"role": "user", "content": user}]}
    if output is not None:
        ex["completion"] = [{"role": "assistant", "content": output}]
    return ex


def check_loss_mask(dataset, n_records: int | None = None) -> None:
    """Every training example must put at least one token in the loss (TRL
    silently drops fully masked examples, so a shrunken dataset is an error too)."""
    if n_records is not None and len(dataset) != n_records:
        raise TrainingError(f"{n_records - len(dataset)} of {n_records} training examples have an empty loss mask "
                            f"(the assistant part was truncated away); raise max_length or shorten the records")
    for i, labels in enumerate(dataset["labels"]):
        if not any(t != -100 for t in labels):
            raise TrainingError(f"training example {i}: empty loss mask (the assistant part was truncated away "
                                f"or is empty); raise max_length or shorten the record")


def linear_module_names(model) -> list[str]:
    """The names (last component) of the model's linear layers but the output head:
    PEFT's ``all-linear`` as a list."""
    import torch

    out = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, m in model.named_modules()
                   if isinstance(m, torch.nn.Linear) and m is not out})


@contextlib.contextmanager
def score_completion_positions_only() -> Iterator[None]:
    """Let TRL's fused LM head score only the positions that carry loss.

    TRL projects hidden states through the LM head in tiles and, except on
    Triton devices, scores every position, prompt and padding included, so that
    compiled devices (Neuron) see fixed shapes; the result is the same, as the
    positions without a label are zeroed. Eager CPU training recompiles nothing,
    and the head (49k-token vocabulary) is a large share of a small student's
    work, so here only labelled positions are scored (TRL's own compact path).
    Without that hook in this TRL, training runs as TRL decides."""
    try:
        from trl.trainer import utils as trl_utils
    except ImportError:  # pragma: no cover - trl is a dependency
        yield
        return
    decide = getattr(trl_utils, "_use_triton", None)
    if decide is None:
        yield
        return
    trl_utils._use_triton = lambda device: device.type == "cpu" or decide(device)
    try:
        yield
    finally:
        trl_utils._use_triton = decide


def _truncate(example: dict[str, Any], limit: int) -> dict[str, Any]:
    """An example's token lists cut to ``limit`` tokens from the end (TRL's keep_start)."""
    return {k: v[:limit] if isinstance(v, list) else v for k, v in example.items()}


def train(student_path: Path | str, records: list[dict[str, str]], out_dir: Path, config: TrainConfig,
          progress_cb: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Fine-tune ``student_path`` on ``records`` and save the merged model in ``out_dir``.

    Returns training statistics (steps, final loss, seconds)."""
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    if not records:
        raise TrainingError("no records to train on")
    out_dir = Path(out_dir)
    work = out_dir.with_name(out_dir.name + ".work")
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun / accelerate launch, rank 0 owns the folders
        shutil.rmtree(work, ignore_errors=True)
    torch.manual_seed(config.seed)

    tok = load_tokenizer(student_path)
    model = load_model(student_path)
    ds = Dataset.from_list([to_conversation(r["instruction"], r["input"], r["output"]) for r in records])

    peft_config = None
    if config.method == "lora":
        from peft import LoraConfig

        layers, targets = None, config.lora_target_modules
        if config.lora_layers is not None:
            n_layers = int(model.config.num_hidden_layers)
            layers = list(range(max(0, n_layers - config.lora_layers), n_layers))
            if targets == "all-linear":  # PEFT takes a layer list only with module names
                targets = linear_module_names(model)
        peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                 target_modules=targets, layers_to_transform=layers, task_type="CAUSAL_LM")
    elif config.method != "full":
        raise TrainingError(f"unknown training method {config.method!r} (expected 'lora' or 'full')")

    use_cpu = not torch.cuda.is_available()
    bf16 = config.bf16 and native_bf16()
    padding_free = config.batching == "padding_free"
    args = SFTConfig(
        output_dir=str(work),
        learning_rate=config.learning_rate,
        num_train_epochs=config.num_train_epochs,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        # padding-free batches are not truncated by TRL: the examples are cut to max_length below instead
        max_length=None if padding_free else config.max_length,
        padding_free=padding_free,
        train_sampling_strategy="group_by_length" if config.batching == "group_by_length" else "random",
        bf16=bf16,
        fp16=False,
        gradient_checkpointing=config.gradient_checkpointing,
        seed=config.seed,
        data_seed=config.seed,
        weight_decay=config.weight_decay,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=use_cpu,
        dataloader_num_workers=0,
        disable_tqdm=True,
        dataset_num_proc=None,
    )

    class _Progress(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if progress_cb:
                progress_cb(state.global_step, state.max_steps)

    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=peft_config,
                         callbacks=[_Progress()])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # progress goes through progress_cb
    if padding_free:
        trainer.train_dataset = trainer.train_dataset.map(partial(_truncate, limit=config.max_length))
    check_loss_mask(trainer.train_dataset, len(records))
    tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"])
    t0 = time.time()
    with score_completion_positions_only():
        result = trainer.train()
    seconds = time.time() - t0

    model = trainer.model
    if config.method == "lora":
        model = model.merge_and_unload()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    stats = {
        "method": config.method,
        "examples": len(records),
        "steps": int(trainer.state.global_step),
        "train_loss": float(result.training_loss),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "seconds": round(seconds, 1),
        "precision": "bf16" if bf16 else "fp32",
        "batching": config.batching,
        "processes": int(trainer.args.world_size),
        "tokens_per_epoch": tokens,
        "tokens_per_second": round(tokens * config.num_train_epochs / seconds, 1) if seconds > 0 else None,
        "losses": losses,
    }
    if not trainer.is_world_process_zero():
        return stats
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp), safe_serialization=True)
    tok.save_pretrained(str(tmp))
    (tmp / "train_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    shutil.rmtree(work, ignore_errors=True)
    return stats


def main(argv: list[str] | None = None) -> int:
    """``python -m data_agent.trainers.sft SUBMISSION --out DIR``: train a student on a
    submission file with a preset's recipe (and a config file's ``[train]``).
    Launched by ``accelerate launch`` or ``torchrun``, it trains data-parallel, one
    process per device (gloo between CPU processes); rank 0 saves the merged model."""
    import argparse

    from ..config import load_config
    from ..models import resolve_student
    from ..records import read_submission

    ap = argparse.ArgumentParser(prog="python -m data_agent.trainers.sft", description=main.__doc__.splitlines()[0])
    ap.add_argument("submission", type=Path, help="a submission.json (a list of instruction/input/output records)")
    ap.add_argument("--out", type=Path, required=True, help="folder of the merged model")
    ap.add_argument("--student", default=None, help="student (default: the preset's)")
    ap.add_argument("--preset", default="cpu", help="preset whose [train] recipe is used (cpu, gpu or smoke)")
    ap.add_argument("--config", type=Path, default=None, help="a TOML config file ([train] overrides)")
    a = ap.parse_args(argv)
    try:
        cfg = load_config(a.preset, a.config)
        records = read_submission(a.submission, ["instruction", "input", "output"])
        stats = train(resolve_student(a.student or cfg.student), records, a.out, cfg.train)
    except DataAgentError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({k: v for k, v in stats.items() if k != "losses"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
