#!/usr/bin/env bash
# Two builds of `asapp` side by side: each imports the same tree of COUNT small JSON Lines files
# (dated folders, one conversation of two messages a file) into a fresh, empty release sandbox,
# unthrottled, the two alternately, ROUNDS times; prints each run's seconds, peak RSS and
# messages. For a change that should cost nothing (the import's move into its library crate).
#
# Usage: cli/benches/compare-commits.sh OLD_ASAPP [COUNT] [ROUNDS]   (20000 and 3 by default)
#   OLD_ASAPP: an `asapp` built in release from the other commit, e.g.
#   git worktree add /tmp/old REV && (cd /tmp/old && cargo build --release -p asapp-conversations-cli)
# Needs cargo, python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
old=$1; count=${2:-20000}; rounds=${3:-3}
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-compare; rm -rf "$work"; mkdir -p "$work"
python3 - "$count" "$work/tree" <<'PY'
import datetime, json, os, sys
count, out = int(sys.argv[1]), sys.argv[2]
day0 = datetime.date(2024, 1, 1); per_day = max(1, -(-count // 366)); made = set()
for c in range(count):
    day = day0 + datetime.timedelta(days=c // per_day); folder = f"{out}/{day:%Y/%m/%d}"
    if folder not in made: os.makedirs(folder, exist_ok=True); made.add(folder)
    conv = f"{c:08d}-aaaa-4bbb-8ccc-{c:012d}"
    lines = [json.dumps({"externalId": conv, "customerId": f"c-{c}", "role": r, "senderId": s,
             "text": f"message {m} of conversation {c}", "timestamp": f"2024-03-01T10:00:0{m}Z"})
             for m, (r, s) in enumerate([("customer", f"c-{c}"), ("agent", "a-1")])]
    open(f"{folder}/{conv}.jsonl", "w").write("\n".join(lines) + "\n")
PY
source cli/benches/sandbox.sh

run() {
  local name=$1 bin=$2 dir=$work/$1
  start_sandbox "$dir" --max-messages 10000000 --max-conversations 2000000
  ASAPP_BASE_URL="$sandbox_url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret \
    /usr/bin/time -f '%M' -o "$dir/time" "$bin" import "$work/tree" --checkpoint "$dir/checkpoint" \
    --rate-limit 0 > "$dir/summary.json" 2> "$dir/progress.log"
  kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true
  python3 -c "import json;s=json.load(open('$dir/summary.json'));print('$name', f\"{s['seconds']:.2f} s\", f\"{int(open('$dir/time').read().split()[-1])/1024:.1f} MiB\", s['messages'])"
}
for r in $(seq "$rounds"); do
  run "old-$r" "$old"
  run "new-$r" target/release/asapp
done
