#!/usr/bin/env bash
# `asapp import` into the local sandbox: 100,000 messages through batches of 300 against the same
# file sent one message per request, and peak memory at 100,000 and 200,000 messages (streamed
# input: memory should not grow with it). Prints one table; BENCHMARKS.md quotes it.
#
# Usage: cli/benches/import.sh        Needs cargo, python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-import
rm -rf "$work" && mkdir -p "$work"

# 100 messages per conversation, conversation after conversation.
generate() { # messages file
  python3 - "$1" "$2" <<'PY'
import json, sys
total, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    for n in range(total):
        c, m = divmod(n, 100)
        role = "customer" if m % 2 == 0 else "agent"
        out.write(json.dumps({"externalId": f"call-{c:06d}", "customerId": f"customer-{c}", "customerName": "Ada",
                              "agentId": "agent-1", "agentName": "Grace", "role": role,
                              "senderId": f"customer-{c}" if role == "customer" else "agent-1",
                              "text": f"message {m} of call {c}, with some words to make it a realistic length",
                              "timestamp": f"2024-01-23T11:{m // 60:02d}:{m % 60:02d}Z"}) + "\n")
PY
}
generate 100000 "$work/100k.jsonl"
generate 200000 "$work/200k.jsonl"

sandbox_pid=""
stop() { [[ -n "$sandbox_pid" ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null; sandbox_pid=""; }
trap stop EXIT
start_sandbox() {
  stop
  target/release/asapp-sandbox --port 0 --empty --max-messages 10000000 --max-conversations 1000000 > "$work/sandbox.log" 2>&1 &
  sandbox_pid=$!
  for _ in $(seq 1 100); do
    url=$(grep -o 'http://[0-9.:]*' "$work/sandbox.log" | head -n1 || true)
    [[ -n "$url" ]] && return
    sleep 0.1
  done
  echo "import bench: the sandbox did not start" >&2; exit 1
}

run() { # label file extra-args...
  local label=$1 file=$2; shift 2
  start_sandbox
  rm -f "$work/checkpoint"
  ASAPP_BASE_URL="$url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret \
    /usr/bin/time -f '%M' -o "$work/rss" \
    target/release/asapp import "$file" --checkpoint "$work/checkpoint" "$@" > "$work/summary.json"
  python3 - "$label" "$work/summary.json" "$(cat "$work/rss")" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))
print(f"| {sys.argv[1]} | {s['messages']:,} | {s['batches']:,} | {s['seconds']:.2f} s | {s['messagesPerSecond']:,.0f} | {int(sys.argv[3]) / 1024:.1f} MiB |")
PY
}

echo "| run | messages | requests for messages | time | messages/s | peak RSS of asapp |"
echo "|---|---|---|---|---|---|"
run "100k, batches of 300, no rate limit" "$work/100k.jsonl" --rate-limit 0
run "100k, one message per request, no rate limit" "$work/100k.jsonl" --rate-limit 0 --batch-size 1
run "200k, batches of 300, no rate limit" "$work/200k.jsonl" --rate-limit 0
run "100k, batches of 300, default 100 requests/s" "$work/100k.jsonl"
# One message per request at 100 requests/s: about 17 minutes.
run "100k, one message per request, default 100 requests/s" "$work/100k.jsonl" --batch-size 1
