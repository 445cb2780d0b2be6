"""Student fine-tuning throughput: ours vs the earlier fp32 path vs TRL's defaults.

Trains the same records on the same student in separate processes, side by
side in one run, and prints for each arm the training tokens/s, the wall time,
the loss curve's first and last values and the ratio to the earlier path. In
the same run it measures this machine's fp32 and bf16 matmul peak (a 2048x2048
matmul; bf16 where it is native) and prints the share of that peak the training
reaches, with model FLOPs counted as 6 * parameters * tokens (the full
fine-tuning count; LoRA skips the weight gradients, so its true FLOPs are lower).

    python scripts/bench_sft.py [--records 64] [--epochs 2] [--arms earlier,trl-default,ours]

Arms (``--arms``; each a TrainConfig on top of the cpu preset's):

* ``earlier``: the fp32 path before the speed work: TRL's gradient checkpointing
  left on, random padded batches of 4, LoRA on every layer, lr 4e-4;
* ``trl-default``: SFTTrainer with TRL's own SFTConfig defaults (batches of 8,
  lr 2e-5, gradient checkpointing; only the output folder and the epochs set)
  and LoRA r=16 on every linear layer, as a user would start; TRL defaults to
  bf16, which is kept only where it is native;
* ``ours``: the cpu preset as shipped (top 16 layers, batches of 2, lr 1e-3);
* one lever at a time on the earlier recipe: ``no-ckpt``, ``grouped`` (length-grouped
  batches; the fused head scores only labelled positions in every arm but
  ``earlier``), ``padding-free``, ``top8``, ``top16``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

EARLIER = {"learning_rate": 4e-4, "per_device_train_batch_size": 4}
"""The earlier cpu recipe's optimiser settings (LoRA on every layer, batches of 4)."""
ARMS = {
    "earlier": {**EARLIER, "bf16": False, "gradient_checkpointing": True, "batching": "padded", "lora_layers": None},
    "no-ckpt": {**EARLIER, "bf16": False, "gradient_checkpointing": False, "batching": "padded", "lora_layers": None},
    "grouped": {**EARLIER, "gradient_checkpointing": False, "batching": "group_by_length", "lora_layers": None},
    "padding-free": {**EARLIER, "gradient_checkpointing": False, "batching": "padding_free", "lora_layers": None},
    "top8": {**EARLIER, "gradient_checkpointing": False, "batching": "group_by_length", "lora_layers": 8},
    "top16": {**EARLIER, "gradient_checkpointing": False, "batching": "group_by_length", "lora_layers": 16},
    "ours": {},
}


def make_records(n: int) -> list[dict[str, str]]:
    """``n`` science records from the symbolic teacher, three difficulty levels (deterministic)."""
    from bench_cpu_finetune import make_records as symbolic_records  # this script's folder is on sys.path

    return symbolic_records(n, levels=3)


def matmul_peak(dtype_name: str, size: int = 2048, seconds: float = 2.0) -> float:
    """GFLOP/s of a ``size``-square matmul in ``dtype_name`` on this machine."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    return 2 * size ** 3 * n / (time.perf_counter() - t0) / 1e9


def child_ours(arm: str, records_file: str, epochs: float, student: str) -> dict:
    from data_agent.config import PRESETS
    from data_agent.models import resolve_student
    from data_agent.trainers.sft import train

    if arm == "earlier":  # the earlier path had TRL score every position through the LM head
        import contextlib

        from data_agent.trainers import sft

        sft.score_completion_positions_only = contextlib.nullcontext
    cfg = replace(PRESETS["cpu"]().train, num_train_epochs=epochs, **ARMS[arm])
    records = json.loads(Path(records_file).read_text())
    with tempfile.TemporaryDirectory() as d:
        stats = train(resolve_student(student), records, Path(d) / "model", cfg)
    stats["lora_layers"] = cfg.lora_layers
    stats["gradient_checkpointing"] = cfg.gradient_checkpointing
    return stats


def child_trl_default(records_file: str, epochs: float, student: str) -> dict:
    """SFTTrainer as TRL's documentation starts it: SFTConfig's defaults."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from data_agent.config import PRESETS
    from data_agent.models import load_model, load_tokenizer, native_bf16, resolve_student
    from data_agent.trainers.sft import to_conversation

    preset = PRESETS["cpu"]().train
    path = resolve_student(student)
    records = json.loads(Path(records_file).read_text())
    ds = Dataset.from_list([to_conversation(r["instruction"], r["input"], r["output"]) for r in records])
    with tempfile.TemporaryDirectory() as d:
        args = SFTConfig(output_dir=d, num_train_epochs=epochs, report_to=[], save_strategy="no", disable_tqdm=True,
                         use_cpu=not torch.cuda.is_available(), bf16=native_bf16())
        peft = LoraConfig(r=preset.lora_r, lora_alpha=preset.lora_alpha, target_modules="all-linear",
                          task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=load_model(path), args=args, train_dataset=ds, processing_class=load_tokenizer(path),
                             peft_config=peft)
        tokens = sum(len(x) for x in trainer.train_dataset["input_ids"])
        t0 = time.time()
        trainer.train()
        seconds = time.time() - t0
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"seconds": round(seconds, 1), "tokens_per_epoch": tokens, "steps": trainer.state.global_step,
            "tokens_per_second": round(tokens * epochs / seconds, 1), "losses": losses,
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "precision": "bf16" if args.bf16 else "fp32", "gradient_checkpointing": args.gradient_checkpointing,
            "batching": "padded", "lora_layers": None}


def n_params(student: str) -> int:
    from transformers import AutoConfig, AutoModelForCausalLM

    from data_agent.models import resolve_student

    import torch

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(resolve_student(student))))
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=64)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--student", default="smollm2-135m")
    ap.add_argument("--arms", default="earlier,trl-default,ours")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--records-file", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        stats = (child_trl_default(a.records_file, a.epochs, a.student) if a.child == "trl-default"
                 else child_ours(a.child, a.records_file, a.epochs, a.student))
        print("RESULT " + json.dumps(stats))
        return
    arms = [x.strip() for x in a.arms.split(",") if x.strip()]
    unknown = [x for x in arms if x not in ARMS and x != "trl-default"]
    if unknown:
        sys.exit(f"unknown arm(s) {', '.join(unknown)} (known: trl-default, {', '.join(ARMS)})")
    from data_agent.models import native_bf16, resolve_student

    resolve_student(a.student)  # convert once, outside the timed runs
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(make_records(a.records), f)
    native = native_bf16()
    peak32 = matmul_peak("float32")
    peak16 = matmul_peak("bfloat16", size=2048 if native else 256, seconds=2.0 if native else 0.5)
    params = n_params(a.student)
    print(f"records={a.records} epochs={a.epochs} student={a.student} ({params / 1e6:.1f}M parameters); "
          f"{os.cpu_count()} cores")
    print(f"matmul peak: fp32 {peak32:.1f} GFLOP/s, bf16 {peak16:.1f} GFLOP/s "
          f"({'native' if native else 'NOT native on this CPU (no avx512_bf16/AMX): bf16 is emulated, so the arms run fp32'})")
    results = {}
    for arm in arms:
        cp = subprocess.run([sys.executable, __file__, "--child", arm, "--records-file", f.name, "--epochs",
                             str(a.epochs), "--student", a.student], capture_output=True, text=True)
        line = [ln for ln in cp.stdout.splitlines() if ln.startswith("RESULT ")]
        if cp.returncode or not line:
            sys.exit(f"arm {arm} failed:\n{cp.stderr[-3000:]}")
        r = results[arm] = json.loads(line[0][7:])
        peak = peak16 if r["precision"] == "bf16" else peak32
        share = 6 * params * r["tokens_per_second"] / 1e9 / peak
        tail = r["losses"][-4:]
        print(f"  {arm:12s} {r['tokens_per_second']:8.1f} tokens/s  {r['seconds']:7.1f} s  steps={r['steps']:3d}  "
              f"loss {r['first_loss']:.3f} -> {r['last_loss']:.3f} (mean of last {len(tail)} steps "
              f"{sum(tail) / len(tail):.3f})  {r['precision']}, checkpointing={r['gradient_checkpointing']}, "
              f"{r['batching']}, lora_layers={r['lora_layers']}  {100 * share:.1f}% of the {r['precision']} peak",
              flush=True)
    base = results.get("earlier")
    if base:
        for arm, r in results.items():
            if arm != "earlier":
                print(f"tokens/s ratio {arm}/earlier = {r['tokens_per_second'] / base['tokens_per_second']:.2f}; "
                      f"final loss {r['last_loss']:.3f} vs {base['last_loss']:.3f}")
    if "trl-default" in results and "ours" in results:
        r, t = results["ours"], results["trl-default"]
        print(f"tokens/s ratio ours/trl-default = {r['tokens_per_second'] / t['tokens_per_second']:.2f}; "
              f"final loss {r['last_loss']:.3f} vs {t['last_loss']:.3f}")
    os.unlink(f.name)


if __name__ == "__main__":
    main()
