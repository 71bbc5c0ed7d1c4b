#!/usr/bin/env bash
# The sandbox against Stoplight Prism 5.14 (the same spec) and a bare axum handler returning the
# same bytes (the ceiling), under the same wrk load, side by side in one run; then the batch
# ingestion rate. Prints one table; BENCHMARKS.md quotes it.
#
# Usage: sandbox/benches/compare.sh [SECONDS_PER_RUN] [ROUNDS]      (defaults: 10, 3)
# Needs: cargo, npm (Prism is installed from the pinned lock file here), wrk (apt install wrk).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds="${1:-10}"
rounds="${2:-3}"
connections=10
here=sandbox/benches

cargo build --release --locked --quiet -p asapp-conversations-sandbox --bin asapp-sandbox --example ceiling
(cd "$here/prism" && npm ci --no-audit --no-fund --loglevel=error)
command -v wrk >/dev/null || { echo "compare: wrk is required (apt-get install wrk)" >&2; exit 1; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start() { # name port command...
  local name=$1 port=$2; shift 2
  setsid "$@" > "target/bench-$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then return; fi
    sleep 0.1
  done
  echo "compare: $name did not start" >&2; cat "target/bench-$name.log" >&2; exit 1
}

mkdir -p target
start prism 4010 "$here/prism/node_modules/.bin/prism" mock api-specs/conversations.yaml -p 4010
start sandbox 4011 target/release/asapp-sandbox --port 4011
start ceiling 4012 target/release/examples/ceiling 4012

path=/conversation/v1/conversations/01BX5ZZKBKACTAV9WEVGEMMVRZ
auth=(-H 'asapp-api-id: sandbox-api-id' -H 'asapp-api-secret: sandbox-api-secret')
for port in 4010 4011 4012; do
  test "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$port$path")" = 200
done

# The listening process (npx-free: Prism's node process itself), for peak memory.
listener() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

results=target/bench-results.txt
: > "$results"
for round in $(seq 1 "$rounds"); do
  for name in prism sandbox ceiling; do
    case $name in prism) port=4010 ;; sandbox) port=4011 ;; ceiling) port=4012 ;; esac
    out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "${auth[@]}" "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "$round $name $rps $p99 ${non2xx:-0}" | tee -a "$results"
  done
done
for name in prism sandbox ceiling; do
  case $name in prism) port=4010 ;; sandbox) port=4011 ;; ceiling) port=4012 ;; esac
  echo "peak $name $(peak_kib "$(listener $port)")" | tee -a "$results"
done

# Batch ingestion: 300-message batches into one conversation of a fresh, empty-capped sandbox.
start ingest 4013 target/release/asapp-sandbox --port 4013 --max-messages 50000000
script=target/bench-batch.lua
python3 - "$script" <<'PY'
import json, sys
messages = [{"text": f"message {i} of the batch", "sender": {"role": "customer" if i % 2 else "agent", "externalId": "p-1"},
             "timestamp": f"2024-01-23T11:{i // 60 % 60:02d}:{i % 60:02d}Z"} for i in range(300)]
body = json.dumps({"messages": messages}).replace("\\", "\\\\").replace('"', '\\"')
open(sys.argv[1], "w").write(
    'wrk.method = "POST"\n'
    'wrk.headers["content-type"] = "application/json"\n'
    'wrk.headers["asapp-api-id"] = "sandbox-api-id"\n'
    'wrk.headers["asapp-api-secret"] = "sandbox-api-secret"\n'
    f'wrk.body = "{body}"\n')
PY
out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:4013$path/messages/batch")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
count=$(curl -s "${auth[@]}" "http://127.0.0.1:4013$path/messages" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
echo "batch $rps $p99 ${non2xx:-0} stored=$count peak=$(peak_kib "$(listener 4013)")" | tee -a "$results"

python3 - "$results" "$connections" "$seconds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
runs = {}
for r in rows:
    if r[0].isdigit():
        runs.setdefault(r[1], []).append((float(r[2]), ms(r[3]), int(r[4])))
peak = {r[1]: int(r[2]) for r in rows if r[0] == "peak"}
med = {k: statistics.median(x[0] for x in v) for k, v in runs.items()}
print(f"\nGET of the seeded conversation, wrk -t1 -c{sys.argv[2]} -d{sys.argv[3]}s, median of {len(runs['prism'])} rounds")
print("| server | req/s (median) | rounds | p99 (median) | peak RSS | non-2xx |")
print("|---|---|---|---|---|---|")
for k in ["prism", "sandbox", "ceiling"]:
    v = runs[k]
    print(f"| {k} | {med[k]:,.0f} | {' '.join(f'{x[0]:,.0f}' for x in v)} | {statistics.median(x[1] for x in v):.2f} ms | {peak[k]/1024:.1f} MiB | {sum(x[2] for x in v)} |")
print(f"\nsandbox / prism = {med['sandbox']/med['prism']:.1f}x, sandbox / ceiling = {med['sandbox']/med['ceiling']:.2f}")
b = [r for r in rows if r[0] == "batch"][0]
print(f"batch ingestion: {float(b[1]):,.0f} batches/s = {float(b[1])*300:,.0f} messages/s, p99 {b[2]}, non-2xx {b[3]}, {b[4]}, {b[5]} KiB")
PY
