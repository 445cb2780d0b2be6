"""The architecture is a checked contract: the import-linter contracts in
pyproject.toml (layers, no cycles), and no module outside tasks/ names an answer format."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    cp = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stdout[-4000:] + cp.stderr[-2000:]
    assert "BROKEN" not in cp.stdout and " KEPT" in cp.stdout


FORBIDDEN = [r"The answer is therefore", r"\\+boxed\{", r"problem_text", r"answer_number", r"answer_latex", r"problemid",
             r"\[/?ANSWER\]", r"Therefore, the answer is", r"ground_truth"]
"""The answer sentences (SciBench's boxed one, FinanceReasoning's), CRUXEval's answer line and the benchmarks'
answer field names: the business of tasks/ only."""


def test_only_tasks_name_an_answer_format():
    offenders = []
    for f in sorted((ROOT / "data_agent").rglob("*.py")):
        if "tasks" in f.relative_to(ROOT / "data_agent").parts:
            continue
        text = f.read_text(encoding="utf-8")
        for pat in FORBIDDEN:
            for m in re.finditer(pat, text):
                line = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{f.relative_to(ROOT)}:{line}: {pat}")
    assert not offenders, "\n".join(offenders)
