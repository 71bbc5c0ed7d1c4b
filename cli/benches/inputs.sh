#!/usr/bin/env bash
# What the number of inputs costs `asapp import`: trees of small JSON Lines transcripts (one
# conversation of two messages a file), imported unthrottled into a fresh local sandbox: 2,000 and
# 40,000 files in one directory, and 2,000, 40,000 and 1,000,000 files in dated folders
# (YYYY/MM/DD, as Amazon Connect writes a year of analyses). For each: the peak RSS of `asapp`
# (GNU time), and the time from its start to its first batch acknowledged (the first `ack` in the
# checkpoint, looked for every 10 ms). Prints one table; BENCHMARKS.md quotes it.
#
# Usage: cli/benches/inputs.sh [LARGEST]   (1000000 by default)
# Needs cargo, python3 and GNU time (/usr/bin/time). About 15 minutes and 5 GB of disk at a
# million files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
largest=${1:-1000000}
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-inputs
rm -rf "$work" && mkdir -p "$work"

# generate COUNT DIR SHAPE: COUNT files under DIR, all in it (flat) or in dated folders (dated).
generate() {
  python3 - "$1" "$2" "$3" <<'PY'
import datetime, json, os, sys
count, out, shape = int(sys.argv[1]), sys.argv[2], sys.argv[3]
day0 = datetime.date(2024, 1, 1)
per_day = max(1, -(-count // 366))
made = set()
for c in range(count):
    folder = out
    if shape == "dated":
        day = day0 + datetime.timedelta(days=c // per_day)
        folder = f"{out}/{day:%Y/%m/%d}"
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    conversation = f"{c:08d}-aaaa-4bbb-8ccc-{c:012d}"
    lines = [json.dumps({"externalId": conversation, "customerId": f"c-{c}", "role": role,
                         "senderId": sender, "text": f"message {m} of conversation {c}",
                         "timestamp": f"2024-03-01T10:00:0{m}Z"})
             for m, (role, sender) in enumerate([("customer", f"c-{c}"), ("agent", "a-1")])]
    with open(f"{folder}/{conversation}.jsonl", "w") as f:
        f.write("\n".join(lines) + "\n")
PY
}

source cli/benches/sandbox.sh

# import NAME INPUT: the input into a fresh, empty sandbox; NAME/summary.json, NAME/time,
# NAME/first (seconds to the first acknowledged batch).
import() {
  local dir=$work/$1 input=$2
  start_sandbox "$dir" --max-messages 10000000 --max-conversations 2000000
  local sandbox=$sandbox_pid url=$sandbox_url
  local started
  started=$(date +%s.%N)
  ASAPP_BASE_URL="$url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret \
    /usr/bin/time -f '%M' -o "$dir/time" \
    target/release/asapp import "$input" --checkpoint "$dir/checkpoint" --rate-limit 0 \
    > "$dir/summary.json" 2> "$dir/progress.log" &
  local asapp=$!
  pids+=("$asapp")
  local first=""
  while kill -0 "$asapp" 2>/dev/null; do
    if grep -q -m1 '"ack"' "$dir/checkpoint" 2>/dev/null; then
      first=$(date +%s.%N)
      break
    fi
    sleep 0.01
  done
  wait "$asapp"
  [[ -n "$first" ]] || first=$(date +%s.%N)
  python3 -c "print(f'{$first - $started:.3f}')" > "$dir/first"
  kill "$sandbox"
}

for count in 2000 40000; do
  generate "$count" "$work/flat-$count" flat
  import "flat-$count-run" "$work/flat-$count"
  rm -rf "$work/flat-$count"
done
for count in $(printf '%s\n' 2000 40000 "$largest" | sort -nu); do
  generate "$count" "$work/dated-$count" dated
  import "dated-$count-run" "$work/dated-$count"
  rm -rf "$work/dated-$count"
done

python3 - "$work" "$largest" <<'PY'
import json, sys
work, largest = sys.argv[1], int(sys.argv[2])
def row(name, count, shape):
    s = json.load(open(f"{work}/{name}-run/summary.json"))
    assert s["messages"] == 2 * count and s["invalidLines"] == 0, (name, s)
    rss = int(open(f"{work}/{name}-run/time").read().split()[-1]) / 1024
    first = float(open(f"{work}/{name}-run/first").read())
    print(f"| {count:,} files, {shape} | {rss:.1f} MiB | {first * 1000:,.0f} ms | {s['seconds']:,.1f} s | {s['messagesPerSecond']:,.0f} |")
    return rss
print("| input | peak RSS of `asapp` | first batch acknowledged after | import | messages/s |")
print("|---|---|---|---|---|")
flat = [row(f"flat-{n}", n, "one directory") for n in (2000, 40000)]
dated = [row(f"dated-{n}", n, "dated folders") for n in (2000, 40000, largest)]
print(f"\npeak RSS, 40,000 / 2,000 files: {flat[1] / flat[0]:.3f} in one directory, {dated[1] / dated[0]:.3f} in dated folders; {largest:,} / 2,000 in dated folders: {dated[2] / dated[0]:.3f}")
PY
