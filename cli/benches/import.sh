#!/usr/bin/env bash
# `asapp import` into the local sandbox: 100,000 messages through batches against the same file
# sent one message per request, for conversations of 100 and of 1,000 messages, with no rate limit
# (CPU-bound: both processes share this machine) and with the shipped limit of 100 requests per
# second (ASAPP's spike arrest, the bound against the real service); and peak memory at 100,000
# and 200,000 messages (the input is streamed: memory should not grow with it). Prints one table;
# BENCHMARKS.md quotes it.
#
# Usage: cli/benches/import.sh        Needs cargo, python3 and GNU time (/usr/bin/time).
# About 18 minutes: the two rate-limited single-message runs take 1,000 s each, side by side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-import
rm -rf "$work" && mkdir -p "$work"

generate() { # messages per-conversation file
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
total, per, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(path, "w") as out:
    for n in range(total):
        c, m = divmod(n, per)
        role = "customer" if m % 2 == 0 else "agent"
        out.write(json.dumps({"externalId": f"call-{c:06d}", "customerId": f"customer-{c}", "customerName": "Ada",
                              "agentId": "agent-1", "agentName": "Grace", "role": role,
                              "senderId": f"customer-{c}" if role == "customer" else "agent-1",
                              "text": f"message {m} of call {c}, with some words to make it a realistic length",
                              "timestamp": f"2024-01-23T{11 + m // 3600:02d}:{m // 60 % 60:02d}:{m % 60:02d}Z"}) + "\n")
PY
}
generate 100000 100 "$work/100k-by-100.jsonl"
generate 100000 1000 "$work/100k-by-1000.jsonl"
generate 200000 100 "$work/200k-by-100.jsonl"

source cli/benches/sandbox.sh

# run NAME LABEL FILE ARGS...: a fresh, empty sandbox, then the import under /usr/bin/time; the
# table row goes to $work/NAME.row.
run() {
  local name=$1 label=$2 file=$3; shift 3
  local dir="$work/$name"
  start_sandbox "$dir" --max-messages 10000000 --max-conversations 1000000
  local sandbox=$sandbox_pid url=$sandbox_url
  local before; before=$(awk '{print $14 + $15}' "/proc/$sandbox/stat")
  ASAPP_BASE_URL="$url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret \
    /usr/bin/time -f '%U %S %M' -o "$dir/time" \
    target/release/asapp import "$file" --checkpoint "$dir/checkpoint" "$@" > "$dir/summary.json" 2> "$dir/progress.log"
  local after; after=$(awk '{print $14 + $15}' "/proc/$sandbox/stat")
  kill "$sandbox"
  python3 - "$label" "$dir/summary.json" "$dir/time" "$((after - before))" "$(getconf CLK_TCK)" > "$dir/row" <<'PY'
import json, sys
label, summary, timing, ticks, hz = sys.argv[1:]
s = json.load(open(summary))
user, system, rss = open(timing).read().split()
n = s["messages"]
cpu = (float(user) + float(system)) / n * 1e6
sandbox = int(ticks) / int(hz) / n * 1e6
print(f"| {label} | {n:,} | {s['batches']:,} | {s['seconds']:.2f} s | {s['messagesPerSecond']:,.0f} | {cpu:.1f} | {sandbox:.1f} | {int(rss) / 1024:.1f} MiB |")
PY
}

echo "| run | messages | requests for messages | time | messages/s | asapp CPU µs/msg | sandbox CPU µs/msg | peak RSS of asapp |"
echo "|---|---|---|---|---|---|---|---|"
# The CPU-bound rows, one at a time.
run a "by 100, batches of 300, no rate limit" "$work/100k-by-100.jsonl" --rate-limit 0
run b "by 100, one message per request, no rate limit" "$work/100k-by-100.jsonl" --rate-limit 0 --batch-size 1
run c "by 1,000, batches of 300, no rate limit" "$work/100k-by-1000.jsonl" --rate-limit 0
run d "by 1,000, one message per request, no rate limit" "$work/100k-by-1000.jsonl" --rate-limit 0 --batch-size 1
run e "200k by 100, batches of 300, no rate limit" "$work/200k-by-100.jsonl" --rate-limit 0
for row in a b c d e; do cat "$work/$row/row"; done
# At the shipped 100 requests per second the rate is set by the limiter, not by CPU: the batched
# runs one at a time, then the two single-message runs side by side.
run f "by 100, batches of 300, 100 requests/s" "$work/100k-by-100.jsonl"
run g "by 1,000, batches of 300, 100 requests/s" "$work/100k-by-1000.jsonl"
run h "by 100, one message per request, 100 requests/s" "$work/100k-by-100.jsonl" --batch-size 1 &
single_100=$!
run i "by 1,000, one message per request, 100 requests/s" "$work/100k-by-1000.jsonl" --batch-size 1 &
single_1000=$!
wait "$single_100" "$single_1000"
for row in f g h i; do cat "$work/$row/row"; done
