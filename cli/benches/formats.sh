#!/usr/bin/env bash
# What reading vendor exports costs `asapp import`: the same conversations (CONVERSATIONS of 100
# messages, 1,000 by default) as Amazon Connect Contact Lens documents (one file each, offsets
# from --base-time) and as one JSON Lines file, imported unthrottled into a fresh local sandbox,
# alternating for ROUNDS rounds each (5). Then the peak memory of importing 4 and 16 times as
# many, in both forms. Prints one table; BENCHMARKS.md quotes it.
#
# Usage: cli/benches/formats.sh [CONVERSATIONS [ROUNDS]]
# Needs cargo, python3 and GNU time (/usr/bin/time). About 5 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
conversations=${1:-1000}
rounds=${2:-5}
cargo build --release --locked --quiet -p asapp-conversations-cli --bin asapp -p asapp-conversations-sandbox --bin asapp-sandbox
work=target/bench-formats
rm -rf "$work" && mkdir -p "$work"
base=2024-03-01T10:00:00Z

# generate COUNT DIR: COUNT conversations as Contact Lens files in DIR/documents and as
# DIR/lines.jsonl, message for message the same.
generate() {
  python3 - "$1" "$2" "$base" <<'PY'
import datetime, json, os, sys
count, out, base = int(sys.argv[1]), sys.argv[2], sys.argv[3]
start = datetime.datetime.fromisoformat(base.replace("Z", "+00:00"))
os.makedirs(f"{out}/documents", exist_ok=True)
with open(f"{out}/lines.jsonl", "w") as lines:
    for c in range(count):
        contact = f"{c:08d}-aaaa-4bbb-8ccc-{c:012d}"
        customer, agent = f"c-{c}", f"a-{c % 50}"
        transcript = []
        for m in range(100):
            who = customer if m % 2 == 0 else agent
            role = "CUSTOMER" if m % 2 == 0 else "AGENT"
            offset = 1_000 * m + 250
            text = f"message {m} of contact {c}, with some words to make it a realistic length"
            transcript.append({"Id": f"{c}-{m}", "ParticipantId": who, "Content": text,
                               "BeginOffsetMillis": offset, "EndOffsetMillis": offset + 900,
                               "Sentiment": "NEUTRAL", "LoudnessScore": [70.1, 71.3, 69.8]})
            at = start + datetime.timedelta(milliseconds=offset)
            lines.write(json.dumps({"externalId": contact, "customerId": customer, "agentId": agent,
                                    "role": role.lower(), "senderId": who, "text": text,
                                    "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}) + "\n")
        document = {"Version": "1.1.0", "AccountId": "123456789012", "Channel": "VOICE",
                    "ContentMetadata": {"Output": "Raw"}, "JobStatus": "COMPLETED", "LanguageCode": "en-US",
                    "CustomerMetadata": {"ContactId": contact},
                    "Participants": [{"ParticipantId": customer, "ParticipantRole": "CUSTOMER"},
                                     {"ParticipantId": agent, "ParticipantRole": "AGENT"}],
                    "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
                    "ConversationCharacteristics": {"TotalConversationDurationMillis": 100_000},
                    "Transcript": transcript}
        with open(f"{out}/documents/{contact}_analysis_2024-03-01T10:00:00Z.json", "w") as f:
            json.dump(document, f)
PY
}
generate "$conversations" "$work/1x"
generate $((conversations * 4)) "$work/4x"
generate $((conversations * 16)) "$work/16x"

source cli/benches/sandbox.sh

# import DIR INPUT: the input into a fresh, empty sandbox; DIR/summary.json, DIR/time.
import() {
  local dir=$1 input=$2
  start_sandbox "$dir" --max-messages 10000000 --max-conversations 1000000
  local sandbox=$sandbox_pid url=$sandbox_url
  ASAPP_BASE_URL="$url" ASAPP_API_ID=sandbox-api-id ASAPP_API_SECRET=sandbox-api-secret \
    /usr/bin/time -f '%M' -o "$dir/time" \
    target/release/asapp import "$input" --checkpoint "$dir/checkpoint" --rate-limit 0 --base-time "$base" \
    > "$dir/summary.json" 2> "$dir/progress.log"
  kill "$sandbox"
}

for round in $(seq 1 "$rounds"); do
  import "$work/lines-$round" "$work/1x/lines.jsonl"
  import "$work/documents-$round" "$work/1x/documents"
done
for scale in 4x 16x; do
  import "$work/lines-$scale" "$work/$scale/lines.jsonl"
  import "$work/documents-$scale" "$work/$scale/documents"
done

python3 - "$work" "$rounds" "$conversations" <<'PY'
import json, statistics, sys
work, rounds, conversations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def summary(name):
    return json.load(open(f"{work}/{name}/summary.json"))
def rss(name):
    return int(open(f"{work}/{name}/time").read().split()[-1]) / 1024
for name in [f"{kind}-{r}" for kind in ("lines", "documents") for r in range(1, rounds + 1)] + [f"{kind}-{scale}" for kind in ("lines", "documents") for scale in ("4x", "16x")]:
    s = summary(name)
    assert s["invalidLines"] == 0 and s["invalidDocuments"] == 0, (name, s)
lines = [summary(f"lines-{r}")["messagesPerSecond"] for r in range(1, rounds + 1)]
docs = [summary(f"documents-{r}")["messagesPerSecond"] for r in range(1, rounds + 1)]
ml, md = statistics.median(lines), statistics.median(docs)
print("| input | messages/s (median) | rounds | peak RSS of `asapp` |")
print("|---|---|---|---|")
print(f"| {conversations * 100:,} messages as one JSON Lines file | {ml:,.0f} | {' '.join(f'{r:,.0f}' for r in lines)} | {statistics.median(rss(f'lines-{r}') for r in range(1, rounds + 1)):.1f} MiB |")
print(f"| the same as {conversations:,} Contact Lens documents | {md:,.0f} | {' '.join(f'{r:,.0f}' for r in docs)} | {statistics.median(rss(f'documents-{r}') for r in range(1, rounds + 1)):.1f} MiB |")
for times in (4, 16):
    print(f"| {conversations * 100 * times:,} messages as one JSON Lines file | {summary(f'lines-{times}x')['messagesPerSecond']:,.0f} | 1 | {rss(f'lines-{times}x'):.1f} MiB |")
    print(f"| the same as {conversations * times:,} Contact Lens documents | {summary(f'documents-{times}x')['messagesPerSecond']:,.0f} | 1 | {rss(f'documents-{times}x'):.1f} MiB |")
print(f"\ndocuments / JSON Lines = {md / ml:.3f}")
PY
