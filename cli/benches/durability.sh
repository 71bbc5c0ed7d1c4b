#!/usr/bin/env bash
# What syncing the checkpoint costs `asapp import`: the same 100,000 messages (conversations of
# 100, a conversation at a time) imported unthrottled into a fresh local sandbox, with the
# checkpoint's intents synced before each batch (the default) and with `--no-sync`, alternating
# for ROUNDS rounds each (5); then once each at the shipped 100 requests per second, side by
# side. Prints one table; BENCHMARKS.md quotes it.
#
# Usage: cli/benches/durability.sh [ROUNDS]     Needs cargo and python3. About 2 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${1:-5}
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-durability
rm -rf "$work" && mkdir -p "$work"

python3 - "$work/100k.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    for n in range(100_000):
        c, m = divmod(n, 100)
        role = "customer" if m % 2 == 0 else "agent"
        out.write(json.dumps({"externalId": f"call-{c:06d}", "customerId": f"customer-{c}", "agentId": "agent-1",
                              "role": role, "senderId": f"customer-{c}" if role == "customer" else "agent-1",
                              "text": f"message {m} of call {c}, with some words to make it a realistic length",
                              "timestamp": f"2024-01-23T11:{m // 60:02d}:{m % 60:02d}Z"}) + "\n")
PY

source cli/benches/sandbox.sh

# start DIR: a fresh, empty sandbox; prints its URL (DIR/pid holds its process).
start() {
  start_sandbox "$1" --max-messages 10000000 >&2
  echo "$sandbox_pid" > "$1/pid"
  echo "$sandbox_url"
}

# import DIR URL ARGS...: the import, its summary in DIR/summary.json.
import() {
  local dir=$1 url=$2; shift 2
  ASAPP_BASE_URL="$url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret \
    target/release/asapp import "$work/100k.jsonl" --checkpoint "$dir/checkpoint" "$@" \
    > "$dir/summary.json" 2> "$dir/progress.log"
  kill "$(cat "$dir/pid")"
}

rate() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['messagesPerSecond'])" "$1/summary.json"; }

for round in $(seq 1 "$rounds"); do
  for mode in synced unsynced; do
    dir="$work/$mode-$round"
    url=$(start "$dir")
    if [[ $mode == synced ]]; then
      import "$dir" "$url" --rate-limit 0
    else
      import "$dir" "$url" --rate-limit 0 --no-sync
    fi
    rate "$dir" >> "$work/$mode.rates"
  done
done

# At the shipped rate, side by side.
synced_url=$(start "$work/synced-limited")
unsynced_url=$(start "$work/unsynced-limited")
import "$work/synced-limited" "$synced_url" &
first=$!
import "$work/unsynced-limited" "$unsynced_url" --no-sync
wait "$first"

python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
def rates(mode):
    return [float(line) for line in open(f"{work}/{mode}.rates")]
synced, unsynced = rates("synced"), rates("unsynced")
ms, mu = statistics.median(synced), statistics.median(unsynced)
print("| run | messages/s (median) | rounds |")
print("|---|---|---|")
print(f"| unthrottled, intents synced | {ms:,.0f} | {' '.join(f'{r:,.0f}' for r in synced)} |")
print(f"| unthrottled, `--no-sync` | {mu:,.0f} | {' '.join(f'{r:,.0f}' for r in unsynced)} |")
limited = {m: json.load(open(f"{work}/{m}-limited/summary.json")) for m in ("synced", "unsynced")}
for m, label in (("synced", "intents synced"), ("unsynced", "`--no-sync`")):
    print(f"| 100 requests/s, {label} | {limited[m]['messagesPerSecond']:,.0f} | {limited[m]['seconds']:.2f} s |")
print(f"\nunthrottled: synced / unsynced = {ms / mu:.3f}; at 100 requests/s: "
      f"{limited['synced']['messagesPerSecond'] / limited['unsynced']['messagesPerSecond']:.3f}")
PY
