#!/usr/bin/env bash
# Reproduces the README performance table: creates the random-weight checkpoints if missing, runs ./gpt2j bench for
# each model x dtype (and batch 8), and prints one markdown row per run. Run it on an otherwise idle machine.
#   scripts/bench-table.sh [CKPT_DIR (default /tmp/ckpt)] [THREADS (default 2)] [KV_DTYPE (default: the engine's)]
# Each batch-1 row is two runs, as llama.cpp's llama-bench measures: "pp512" (a 512-token prompt) with "tg128"
# (128 tokens decoded from an empty cache: --decode-after 1), then 32 tokens decoded after the 512-token prompt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CK="${1:-/tmp/ckpt}"; TH="${2:-2}"; KV="${3:-}"
G="$ROOT/gpt2j"
KVARG=(); [ -n "$KV" ] && KVARG=(--kv-dtype "$KV")
for m in gpt2 gpt2-large; do
  [ -f "$CK/$m-f32/model.safetensors" ] || "$G" random-checkpoint --config "$m" --dtype f32 --out "$CK/$m-f32" >&2
done
run() { # model dtype batch newTokens promptTokens decodeAfter warmup
  "$G" bench --model "$CK/$1-f32" --dtype "$2" --batch "$3" --prompt-tokens "$5" --new-tokens "$4" --decode-after "$6" \
    --threads "$TH" --rounds 2 --warmup "$7" --json "${KVARG[@]}" 2>/dev/null
}
row() { # model dtype: pp512 + tg128, then decode after the 512-token prompt
  local a b
  a="$(run "$1" "$2" 1 128 512 1 1)"
  b="$(run "$1" "$2" 1 32 512 0 1)"
  python3 - "$1" "$2" "$a" "$b" <<'PY'
import json, sys
m, d, a, b = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(f"| {m} | {d.upper()} | {a['prefill_tokens_per_s']:.1f} | {a['decode_tokens_per_s']:.1f} | {b['decode_tokens_per_s']:.1f} | "
      f"{a['peak_rss_bytes'] / 1e6:.0f} MB | {100 * a['decode_bandwidth_fraction']:.0f} % of {a['read_bandwidth_gb_per_s']:.1f} GB/s | "
      f"{100 * a['prefill_peak_fraction']:.0f} % of {a['peak_gflops_per_s']:.0f} GFLOP/s | {a['allocated_bytes_per_decode_step']} |")
PY
}
batchrow() { # model dtype newTokens promptTokens warmup: batch 8 against batch 1, same prompt and decode length
  local one eight
  one="$(run "$1" "$2" 1 "$3" "$4" 0 "$5")"
  eight="$(run "$1" "$2" 8 "$3" "$4" 0 "$5")"
  python3 - "$1" "$2" "$one" "$eight" <<'PY'
import json, sys
m, d, one, eight = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
r = eight['decode_tokens_per_s'] / one['decode_tokens_per_s']
print(f"| {m} | {d.upper()}, batch 8 (prompt {eight['prompt_tokens']} each) | {eight['prefill_tokens_per_s']:.1f} | – | "
      f"{eight['decode_tokens_per_s']:.1f} aggregate = {r:.1f}x batch 1 ({one['decode_tokens_per_s']:.1f}) | {eight['peak_rss_bytes'] / 1e6:.0f} MB | "
      f"{100 * eight['decode_bandwidth_fraction']:.0f} % of {eight['read_bandwidth_gb_per_s']:.1f} GB/s | – | {eight['allocated_bytes_per_decode_step']} |")
PY
}
echo "| model | weights | prefill 512 tok/s | decode tg128 tok/s (empty cache) | decode after 512 tok/s | peak RSS | tg128 vs bandwidth | prefill vs peak FMA | bytes allocated / decode step |"
echo "|---|---|---|---|---|---|---|---|---|"
for d in f32 f16 bf16 q8_0; do row gpt2 "$d"; done
batchrow gpt2 f32 64 512 1
for d in f32 f16 bf16 q8_0; do row gpt2-large "$d"; done
batchrow gpt2-large f32 16 64 3  # few steps per round: more warm-up so C2 has compiled the batched kernels
