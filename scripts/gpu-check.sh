#!/usr/bin/env bash
# One prepared check for a machine with a real GPU (docs/gpu.md): in about 5 minutes it records
#   - nvidia-smi's view of the GPU (when there is one) and `vds doctor --backend webgpu`
#   - the engine's kernel tests and the reference-parity / precise-BN fixtures on that GPU (test/engine.test.ts)
#   - `vds bench` for vds's engine (webgpu) at D=10 and D=50, batch 128, and D=100 at batch 512,
#     and for TF.js's WebGPU kernels (webgpu-tfjs) at D=10 and D=50 for comparison
#   - the quickstart trained on the engine (its log, eval.json and env.json)
#   - where a D=10, batch-128 step of the engine spends its time, kernel by kernel (scripts/engine-profile.ts)
# and writes them, with a summary.json, into the folder it is given. Each part has its own time limit, so
# one that hangs costs its limit, not the session. Usage: scripts/gpu-check.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/gpu-check.sh OUT_DIR}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/vds-xdg.XXXXXX)}
vds() { node bin/vds.mjs "$@"; }
step() { # name limit_s command...: runs it, records its exit code and wall time
  local name=$1 limit=$2
  shift 2
  local t0=$(date +%s.%N)
  timeout "$limit" "$@"
  local rc=$?
  echo "{\"step\":\"$name\",\"rc\":$rc,\"seconds\":$(awk "BEGIN{print $(date +%s.%N) - $t0}")}" >> "$out/steps.jsonl"
  echo "gpu-check: $name rc=$rc" >&2
}
: > "$out/steps.jsonl"
date -u +%Y-%m-%dT%H:%M:%SZ > "$out/date.txt"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/nvidia-smi.csv" 2>&1
step doctor 60 sh -c 'node bin/vds.mjs doctor --backend webgpu --json > "$0/doctor.json" 2> "$0/doctor.err"' "$out"
step engine-tests 120 sh -c 'VDS_TEST_REQUIRE_WEBGPU=1 node --import tsx --test --test-reporter=tap test/engine.test.ts > "$0/engine-tests.tap" 2>&1' "$out"
: > "$out/bench.jsonl"
step bench-engine-d10 40 sh -c 'node bin/vds.mjs bench --backend webgpu --depth 10 --batch 128 --reps 20 --json >> "$0/bench.jsonl" 2>> "$0/bench.err"' "$out"
step bench-engine-d50 60 sh -c 'node bin/vds.mjs bench --backend webgpu --depth 50 --batch 128 --reps 10 --json >> "$0/bench.jsonl" 2>> "$0/bench.err"' "$out"
step bench-engine-d100-b512 90 sh -c 'node bin/vds.mjs bench --backend webgpu --depth 100 --batch 512 --reps 3 --json >> "$0/bench.jsonl" 2>> "$0/bench.err"' "$out"
step bench-tfjs-d10 40 sh -c 'node bin/vds.mjs bench --backend webgpu-tfjs --depth 10 --batch 128 --reps 3 --json >> "$0/bench.jsonl" 2>> "$0/bench.err"' "$out"
step bench-tfjs-d50 60 sh -c 'node bin/vds.mjs bench --backend webgpu-tfjs --depth 50 --batch 128 --reps 2 --json >> "$0/bench.jsonl" 2>> "$0/bench.err"' "$out"
step engine-profile-d10 60 sh -c 'node --import tsx scripts/engine-profile.ts 10 128 64 32 > "$0/engine-profile-d10.txt" 2>&1' "$out"
step quickstart 90 sh -c 'node bin/vds.mjs train --config configs/quickstart.yaml --backend webgpu --results-dir "$0/results" --progress plain > "$0/quickstart.log" 2>&1' "$out"
run=$(tail -n 1 "$out/quickstart.log" 2>/dev/null)
[ -d "$run" ] && cp "$run/eval.json" "$run/env.json" "$run/metrics.csv" "$out/" 2>/dev/null
node -e '
const fs = require("fs"); const out = process.argv[1];
const lines = (f) => { try { return fs.readFileSync(`${out}/${f}`, "utf8").trim().split("\n").filter(Boolean).map(JSON.parse); } catch { return []; } };
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${out}/${f}`, "utf8")); } catch { return null; } };
const tap = (() => { try { return fs.readFileSync(`${out}/engine-tests.tap`, "utf8"); } catch { return ""; } })();
const ev = read("eval.json");
const summary = {
  date: fs.readFileSync(`${out}/date.txt`, "utf8").trim(),
  adapter: read("doctor.json")?.webgpu?.adapter ?? null,
  engineTests: { pass: Number(/# pass (\d+)/.exec(tap)?.[1] ?? 0), fail: Number(/# fail (\d+)/.exec(tap)?.[1] ?? -1) },
  bench: lines("bench.jsonl").map((r) => ({ backend: r.backend, engine: r.engine, depth: r.depth, batch: r.batch, train_img_s: r.train_img_s, eval_img_s: r.eval_img_s, dispatches_per_step: r.dispatches_per_step, encode_ms_per_step: r.encode_ms_per_step, fits: r.fits })),
  quickstart: ev ? { accuracy: ev.marginal?.accuracy, logLikelihood: ev.marginal?.logLikelihood, trainSeconds: ev.trainSeconds } : null,
  steps: lines("steps.jsonl"),
};
fs.writeFileSync(`${out}/summary.json`, JSON.stringify(summary, null, 2) + "\n");
console.log(JSON.stringify(summary, null, 2));
' "$out"
