#!/usr/bin/env bash
# Regenerates docs/reproduction/ (the paper's claims at laptop size, docs/reproduction/README.md):
# both sweeps, `vds prune` on every learnt run, the robustness checks on every run, and one report.
# ~75 min on 2 CPU cores (wasm). Finished runs are skipped, so an interrupted call can simply be repeated.
#   bash scripts/reproduce.sh [RESULTS_DIR]        (default: results/repro)
set -euo pipefail
cd "$(dirname "$0")/.."
R="${1:-results/repro}"
for ds in fashion-mnist mnist; do
  npx vds sweep --config "configs/repro/$ds.yaml" --jobs 2 --results-dir "$R"
done
# two at a time (each command is one thread): prune the learnt runs, then the DUN protocol's checks
ls -d "$R"/repro-*/*-learnt-* | xargs -P 2 -I{} sh -c 'npx vds prune "{}" > "{}/prune.log" 2>&1'
ls -d "$R"/repro-mnist/mnist-npm-* | xargs -P 2 -I{} sh -c 'npx vds eval "{}" --ood fashion-mnist-npm --rotations > "{}/eval.log" 2>&1'
ls -d "$R"/repro-fashion-mnist/fashion-mnist-npm-* | xargs -P 2 -I{} sh -c 'npx vds eval "{}" --ood mnist-npm > "{}/eval.log" 2>&1'
npx vds report "$R" --out docs/reproduction/report
