"""Supervised fine-tuning of the student with TRL's SFTTrainer (+ PEFT LoRA).

Records become conversational prompt/completion pairs (user: instruction + input;
assistant: output), so TRL computes the loss on the assistant part only; before
training we check that no example's loss mask is empty.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

from ..config import TrainConfig
from ..errors import DataAgentError
from ..models import load_model, load_tokenizer


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
    shutil.rmtree(work, ignore_errors=True)
    torch.manual_seed(config.seed)

    tok = load_tokenizer(student_path)
    model = load_model(student_path)
    ds = Dataset.from_list([to_conversation(r["instruction"], r["input"], r["output"]) for r in records])

    peft_config = None
    if config.method == "lora":
        from peft import LoraConfig

        peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                 target_modules=config.lora_target_modules, task_type="CAUSAL_LM")
    elif config.method != "full":
        raise TrainingError(f"unknown training method {config.method!r} (expected 'lora' or 'full')")

    use_cpu = not torch.cuda.is_available()
    args = SFTConfig(
        output_dir=str(work),
        learning_rate=config.learning_rate,
        num_train_epochs=config.num_train_epochs,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        max_length=config.max_length,
        bf16=config.bf16 and not use_cpu,
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
    check_loss_mask(trainer.train_dataset, len(records))
    t0 = time.time()
    result = trainer.train()
    seconds = time.time() - t0

    model = trainer.model
    if config.method == "lora":
        model = model.merge_and_unload()
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp), safe_serialization=True)
    tok.save_pretrained(str(tmp))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    stats = {
        "method": config.method,
        "examples": len(records),
        "steps": int(trainer.state.global_step),
        "train_loss": float(result.training_loss),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "seconds": round(seconds, 1),
    }
    (tmp / "train_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    shutil.rmtree(work, ignore_errors=True)
    return stats
