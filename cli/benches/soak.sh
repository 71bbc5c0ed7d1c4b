#!/usr/bin/env bash
# The soak: `asapp import` of MESSAGES messages (1,000,000 by default) in conversations of PER
# (100), interleaved in time order with one message of each conversation said twice, into an
# `asapp-sandbox` injecting faults on FAULTS of the requests in all (10%: 503 before storing, 503
# after storing, a dropped connection after storing and 429, a quarter each, with 2 ms of
# jitter), killed with SIGKILL KILLS times (200) at random moments and resumed until an import
# ends. Then every conversation is exported and compared with the input: what was lost, what was
# stored twice, what is out of order. Prints one summary line; BENCHMARKS.md quotes it.
#
# Usage: cli/benches/soak.sh [MESSAGES [PER [KILLS [FAULTS [SEED]]]]]
# Needs cargo and python3. About 30 minutes with the defaults.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
messages=${1:-1000000}
per=${2:-100}
kills=${3:-200}
faults=${4:-0.10}
seed=${5:-1}
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-soak
rm -rf "$work" && mkdir -p "$work"

python3 - "$messages" "$per" "$seed" "$work" <<'PY'
import json, random, sys
total, per, seed, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conversations = total // per
rng = random.Random(seed)
# Conversations start at staggered times; each message a few seconds after the one before; the
# dump is in time order, so the conversations interleave.
lines = []
for c in range(conversations):
    start = rng.randrange(0, 86_400)
    t = start
    for m in range(per):
        if m != 1:
            t += rng.randrange(0, 30)  # 0: a tie, which the stored order must keep too
        said = 0 if m == 1 else m  # message 1 repeats message 0: time, sender and text
        role = "customer" if said % 2 == 0 else "agent"
        lines.append((t, c, m, json.dumps({
            "externalId": f"soak-{c:06d}", "customerId": f"customer-{c}", "agentId": "agent-1",
            "role": role, "senderId": f"customer-{c}" if role == "customer" else "agent-1",
            "text": f"message {said} of call {c}, with some words to make it a realistic length",
            "timestamp": f"2024-03-{1 + t // 86_400:02d}T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}Z"})))
lines.sort()
with open(f"{work}/dump.jsonl", "w") as out:
    for _, _, _, line in lines:
        out.write(line + "\n")
with open(f"{work}/conversations", "w") as out:
    out.write(f"{conversations}\n")
PY

quarter=$(python3 -c "print($faults / 4)")
target/release/asapp-sandbox --port 0 --empty --max-messages $((messages * 2)) --max-conversations 10000000 \
  --faults "503-before=$quarter,503-after=$quarter,drop-after=$quarter,429=$quarter,jitter=2ms" \
  --fault-seed "$seed" > "$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://[0-9.:]*' "$work/sandbox.log" | head -n1 || true)
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "soak: the sandbox did not start" >&2; exit 1; }
export ASAPP_BASE_URL="$url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret

started=$(date +%s.%N)
killed=0
runs=0
resume=()
RANDOM=$seed
while :; do
  runs=$((runs + 1))
  target/release/asapp import "$work/dump.jsonl" --checkpoint "$work/checkpoint" --rate-limit 0 \
    "${resume[@]}" > "$work/summary.json" 2>> "$work/import.log" &
  import=$!
  resume=(--resume --settle 1s)
  if ((killed < kills)); then
    # A random moment between 0.5 and 4 seconds in: some runs die catching up, most mid-batch.
    sleep "$(printf '%d.%03d' $((RANDOM % 4)) $((500 + RANDOM % 500)))"
    if kill -9 "$import" 2>/dev/null; then
      wait "$import" 2>/dev/null || true
      killed=$((killed + 1))
      continue
    fi
  fi
  status=0
  wait "$import" || status=$?
  ((status != 0)) || break
  ((status != 2)) || { echo "soak: the import refused its input or checkpoint" >&2; tail -n 3 "$work/import.log" >&2; exit 1; }
done
ended=$(date +%s.%N)

# Read every conversation back (`Prefer: code=200`: the sandbox injects no fault there) and
# compare it with the input.
verdict=$(python3 - "$work" "$url" <<'PY'
import collections, json, sys, urllib.parse, urllib.request
work, url = sys.argv[1], sys.argv[2]
headers = {"asapp-api-id": "sandbox-api-id", "asapp-api-secret": "sandbox-api-secret", "prefer": "code=200"}
def get(path):
    with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=30) as answer:
        return json.load(answer)
expected = collections.defaultdict(list)
with open(f"{work}/dump.jsonl") as dump:
    for line in dump:
        line = json.loads(line)
        expected[line["externalId"]].append((line["timestamp"], line["role"], line["senderId"], line["text"]))
lost = duplicated = disordered = 0
for external_id, sent in expected.items():
    found = get("/conversation/v1/conversations?" + urllib.parse.urlencode({"externalId": external_id}))["items"]
    stored = []
    if found:
        items = get(f"/conversation/v1/conversations/{found[0]['id']}/messages")["items"]
        stored = [(m["clientTimestamp"].replace(".000Z", "Z"), m["sender"]["role"], m["sender"].get("externalId"), m["text"]) for m in items]
    want, have = collections.Counter(sent), collections.Counter(stored)
    lost += sum((want - have).values())
    duplicated += sum((have - want).values())
    # The input is in time order, and so must the stored messages be, ties included.
    if not (want - have) and not (have - want) and stored != sent:
        disordered += 1
print(f"lost {lost}, duplicated {duplicated}, conversations out of order {disordered}")
PY
)
kill -TERM "$sandbox"
wait "$sandbox" || true
trap - EXIT
injected=$(sed -n 's/^injected faults: //p' "$work/sandbox.log")
seconds=$(python3 -c "print(f'{$ended - $started:.0f}')")
echo "soak: $messages messages, $killed kills in $runs runs, faults injected $injected; $verdict; $seconds s"
