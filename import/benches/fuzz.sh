#!/usr/bin/env bash
# Coverage-guided fuzzing of the import's readers: builds the fuzz targets of fuzz/ (libFuzzer,
# through libfuzzer-sys, on the stable toolchain) and runs TARGET for SECONDS, or every target one
# after another with `all`. Prints one Markdown table row per target, which BENCHMARKS.md quotes:
# executions, executions per second, the edges covered and the corpus (inputs) at the end, as
# libFuzzer last reports them, crashes (artifacts written) and libFuzzer's exit status.
#
# Usage: import/benches/fuzz.sh TARGET|all SECONDS
# Targets: contact_lens connect_chat genesys twilio contact_records jsonl detect
#
# Needs cargo and a C++ compiler (libfuzzer-sys builds libFuzzer), and gzip. Run by hand: CI only
# checks that the targets build (.ci/fuzz-harness).
# Builds in $CARGO_TARGET_DIR, else ~/.cache/asapp-conversations/fuzz-target; keeps each target's
# corpus, artifacts (crash-*, timeout-*, oom-*) and log under $FUZZ_WORK, else
# ~/.cache/asapp-conversations/fuzz, so that a later run starts from the corpus an earlier one
# found. Seeds are the sample documents of import/tests/data/formats (and fuzz/seeds), copied
# there at each run; each target has a dictionary of the keys its reader looks for
# (fuzz/dictionaries).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

all_targets=(contact_lens connect_chat genesys twilio contact_records jsonl detect)
usage="usage: $0 TARGET|all SECONDS (targets: ${all_targets[*]})"
[ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
[[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "$usage" >&2; exit 2; }
seconds=$2
if [ "$1" = all ]; then
  targets=("${all_targets[@]}")
elif [[ " ${all_targets[*]} " == *" $1 "* ]]; then
  targets=("$1")
else
  echo "$usage" >&2
  exit 2
fi

target_dir=${CARGO_TARGET_DIR:-$HOME/.cache/asapp-conversations/fuzz-target}
work=${FUZZ_WORK:-$HOME/.cache/asapp-conversations/fuzz}
samples=import/tests/data/formats

# The sanitizer-coverage instrumentation cargo fuzz asks of rustc, on the stable toolchain (no
# -Zsanitizer): 8-bit counters and a PC table for libFuzzer's coverage, comparisons traced for
# its value profile; `--cfg fuzzing` as cargo fuzz sets it; overflow checks and debug assertions
# in the release build. `--target` keeps the flags off build scripts and proc macros, which would
# not link with them.
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-prune-blocks=0 \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --quiet --release --locked --manifest-path fuzz/Cargo.toml --target "$host" \
  --target-dir "$target_dir" --bins

# seeds TARGET DIR: the target's seeds, copied into DIR.
seeds() {
  local dir=$2
  rm -rf "$dir" && mkdir -p "$dir"
  case $1 in
    contact_lens) cp "$samples"/contact-lens/* "$dir" ;;
    connect_chat) cp "$samples"/connect-chat/* "$dir" ;;
    genesys) cp "$samples"/genesys/* "$dir" ;;
    twilio) cp "$samples"/twilio/* "$dir" ;;
    jsonl) cp "$samples"/jsonl/* "$dir" ;;
    detect) for format in "$samples"/*/; do cp "$format"* "$dir"; done ;;
    contact_records)
      cp fuzz/seeds/contact_records/* "$dir"
      gzip -c fuzz/seeds/contact_records/records.json > "$dir/records.json.gz"
      ;;
  esac
}

# dictionary TARGET: the target's dictionary (every format's for detect).
dictionary() {
  if [ "$1" = detect ]; then
    cat fuzz/dictionaries/{contact_lens,connect_chat,genesys,twilio,jsonl}.dict > "$work/detect/detect.dict"
    echo "$work/detect/detect.dict"
  else
    echo "fuzz/dictionaries/$1.dict"
  fi
}

echo "| target | executions | executions/s | edges covered | corpus | crashes | seconds | exit status |"
echo "|---|---|---|---|---|---|---|---|"
for target in "${targets[@]}"; do
  dir=$work/$target
  mkdir -p "$dir/corpus" "$dir/artifacts"
  seeds "$target" "$dir/seeds"
  # An input that crashes again is written again under the same name: count what this run wrote.
  touch "$dir/started"
  started=$SECONDS
  status=0
  "$target_dir/$host/release/$target" -max_total_time="$seconds" -use_value_profile=1 \
    -print_final_stats=1 -timeout=10 -dict="$(dictionary "$target")" \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" "$dir/seeds" > "$dir/fuzz.log" 2>&1 || status=$?
  elapsed=$((SECONDS - started))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  executions=${executions:-0}
  rate=$((executions / (elapsed > 0 ? elapsed : 1)))
  # libFuzzer's last status line: `#N DONE cov: EDGES ft: F corp: INPUTS/SIZE …`.
  last=$(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -1 || true)
  coverage=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  crashes=$(find "$dir/artifacts" -type f -newer "$dir/started" | wc -l)
  echo "| $target | $executions | $rate | ${coverage:-?} | ${corpus:-?} | $crashes | $elapsed | $status |"
done
