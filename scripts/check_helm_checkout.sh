#!/usr/bin/env bash
# Reproducible check that helm_plugins works inside an existing HELM source checkout:
#   scripts/check_helm_checkout.sh /path/to/helm-checkout [venv-dir]
# Creates a fresh venv, `pip install -e` the HELM checkout, then `pip install -e` this project, and runs the
# offline demo entries through helm-run (plugin found through its entry point) and helm-plugins summarize.
set -euo pipefail
helm_dir=$(cd "$1" && pwd)
venv=${2:-$(mktemp -d)/venv}
project=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --progress-bar off -q -e "$helm_dir"
"$venv/bin/python" -m pip install --progress-bar off -q -e "$project"
echo "HELM: $("$venv/bin/python" -c 'import helm, os; print(os.path.dirname(helm.__file__))')"
cd "$work"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
"$venv/bin/helm-run" --conf-paths "$project/run_specs/demo.conf" --priority 1 --suite checkout -m 10 -n 2 > helm-run.log 2>&1 \
    || { tail -40 helm-run.log; exit 1; }
"$venv/bin/helm-plugins" summarize --suite checkout > summarize.log 2>&1 || { tail -40 summarize.log; exit 1; }
ls benchmark_output/runs/checkout/groups/hp_synthetic_arithmetic.json benchmark_output/runs/checkout/groups/hp_synthetic_fact_world.json
echo "PASS: helm_plugins ran inside the HELM checkout $helm_dir (outputs in $work)"
