#!/usr/bin/env bash
# Reproduces the README performance table: creates the random-weight checkpoints if missing, runs ./gpt2j bench for
# each model x dtype (and batch 8), and prints one markdown row per run. Run it on an otherwise idle machine.
#   scripts/bench-table.sh [CKPT_DIR (default /tmp/ckpt)] [THREADS (default 2)]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CK="${1:-/tmp/ckpt}"; TH="${2:-2}"
G="$ROOT/gpt2j"
for m in gpt2 gpt2-large; do
  [ -f "$CK/$m-f32/model.safetensors" ] || "$G" random-checkpoint --config "$m" --dtype f32 --out "$CK/$m-f32" >&2
done
row() { # model dtype batch newTokens [promptTokens per sequence, default 512] [warm-up rounds, default 1]
  local json
  json="$("$G" bench --model "$CK/$1-f32" --dtype "$2" --batch "$3" --prompt-tokens "${5:-512}" --new-tokens "$4" \
    --threads "$TH" --rounds 2 --warmup "${6:-1}" --json 2>/dev/null)"
  python3 - "$1" "$2" "$3" "$json" <<'PY'
import json, sys
m, d, b, j = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
label = d.upper() if b == 1 else "%s, batch %d (prompt %d each)" % (d.upper(), b, j["prompt_tokens"])
print(f"| {m} | {label} | {j['prefill_tokens_per_s']:.1f} | "
      f"{j['decode_tokens_per_s']:.1f}{' aggregate' if b > 1 else ''} | {j['peak_rss_bytes'] / 1e6:.0f} MB | "
      f"{100 * j['decode_bandwidth_fraction']:.0f} % of {j['read_bandwidth_gb_per_s']:.1f} GB/s | "
      f"{100 * j['prefill_peak_fraction']:.0f} % of {j['peak_gflops_per_s']:.0f} GFLOP/s | "
      f"{j['allocated_bytes_per_decode_step']} |")
PY
}
echo "| model | weights | prefill 512 tok/s | decode tok/s | peak RSS | decode vs bandwidth | prefill vs peak FMA | bytes allocated / decode step |"
echo "|---|---|---|---|---|---|---|---|"
for d in f32 f16 bf16 q8_0; do row gpt2 "$d" 1 128; done
row gpt2 f32 8 64
for d in f32 f16 bf16 q8_0; do row gpt2-large "$d" 1 32; done
row gpt2-large f32 8 16 64 3  # few steps per round: more warm-up so C2 has compiled the batched kernels
