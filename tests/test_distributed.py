"""Data-parallel training through the launcher ``accelerate launch --multi_gpu`` uses
(torch.distributed.run), here two CPU processes talking over gloo."""

import json
import os
import subprocess
import sys

import pytest

from data_agent.models import TINY, load_model, resolve_student

pytestmark = pytest.mark.slow


def test_two_process_gloo_training_saves_a_model_that_loads(tmp_path, da_home):
    student = resolve_student(TINY)
    records = [{"instruction": "Solve.", "input": f"What is {k} + {k}?",
                "output": f"{k} + {k} = {2 * k}.\nThe answer is therefore \\boxed{{{2 * k}}}."} for k in range(8)]
    sub = tmp_path / "submission.json"
    sub.write_text(json.dumps(records))
    cfg = tmp_path / "train.toml"
    cfg.write_text("[train]\nmethod = \"full\"\nnum_train_epochs = 1\nper_device_train_batch_size = 2\n"
                   "learning_rate = 1e-3\nmax_length = 128\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                         "29517", "-m", "data_agent.trainers.sft", str(sub), "--out", str(tmp_path / "model"),
                         "--student", str(student), "--preset", "smoke", "--config", str(cfg)],
                        capture_output=True, text=True, env=env, timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    stats = json.loads([ln for ln in cp.stdout.splitlines() if ln.startswith("{")][-1])
    assert stats["processes"] == 2
    # 8 records, 2 per device, 2 devices: 2 optimiser steps per epoch
    assert stats["steps"] == 2
    model = load_model(tmp_path / "model")
    assert model.config.num_hidden_layers == 2
    assert not (tmp_path / "model.partial").exists()
