"""Full fine-tuning vs LoRA for the embedded student on this machine's CPU.

Trains the same records with the same recipe twice, side by side in one run,
and prints seconds per epoch, the speed ratio, peak memory and the loss each
reaches. The CPU preset's choice of method comes from this measurement.

    python scripts/bench_cpu_finetune.py [--records 48] [--epochs 1] [--student smollm2-135m]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_records(n: int, levels: int = 2) -> list[dict[str, str]]:
    """``n`` science records from the symbolic teacher, difficulty cycling over 1..``levels`` (deterministic)."""
    from data_agent.domain import load_domain
    from data_agent.tasks.boxed_numeric import format_problem
    from data_agent.generators import symbolic

    dom = load_domain("science")
    names = sorted(symbolic.TEMPLATES)
    out = []
    for k in range(n):
        p = symbolic.generate(names[k % len(names)], seed=k, difficulty=1 + k % levels)
        out.append({"instruction": dom.instruction, "input": format_problem(p.problem, p.unit), "output": p.solution})
    return out


def child(method: str, records_file: str, epochs: float, student: str, lr: float) -> None:
    from data_agent.config import TrainConfig
    from data_agent.trainers.sft import train
    from data_agent.models import resolve_student

    records = json.loads(Path(records_file).read_text())
    cfg = TrainConfig(method=method, num_train_epochs=epochs, learning_rate=lr, per_device_train_batch_size=8,
                      max_length=640, seed=42)
    with tempfile.TemporaryDirectory() as d:
        stats = train(resolve_student(student), records, Path(d) / "model", cfg)
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(stats))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=48)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--student", default="smollm2-135m")
    ap.add_argument("--child", default=None)
    ap.add_argument("--records-file", default=None)
    ap.add_argument("--lr", type=float, default=None)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.records_file, a.epochs, a.student, a.lr)
        return
    from data_agent.models import resolve_student

    resolve_student(a.student)  # convert once, outside the timed runs
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(make_records(a.records), f)
    results = {}
    for method, lr in (("full", 5e-5), ("lora", 1e-4)):
        cp = subprocess.run([sys.executable, __file__, "--child", method, "--records-file", f.name, "--epochs",
                             str(a.epochs), "--student", a.student, "--lr", str(lr)],
                            capture_output=True, text=True)
        line = [ln for ln in cp.stdout.splitlines() if ln.startswith("RESULT ")]
        if cp.returncode or not line:
            sys.exit(f"{method} failed:\n{cp.stderr[-2000:]}")
        results[method] = json.loads(line[0][7:])
    full, lora = results["full"], results["lora"]
    print(f"records={a.records} epochs={a.epochs} student={a.student} (each method in its own process)")
    for m, r in results.items():
        print(f"  {m:5s}: {r['seconds']:7.1f} s  steps={r['steps']}  loss {r['first_loss']:.3f} -> {r['last_loss']:.3f}"
              f"  peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"time ratio full/lora = {full['seconds'] / lora['seconds']:.2f} "
          f"({'full' if full['seconds'] < lora['seconds'] else 'LoRA'} is faster)")
    print(f"memory ratio full/lora = {full['peak_rss_mb'] / lora['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
