# Sourced by the benchmark scripts: a fresh, empty release sandbox per measurement, stopped when
# the script exits. Needs `target/release/asapp-sandbox` built.

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# start_sandbox DIR [SANDBOX OPTIONS...]: starts a sandbox logging to DIR/sandbox.log; sets
# sandbox_pid and sandbox_url, and stops it with the script. Fails after 10 s without its URL.
start_sandbox() {
  local dir=$1; shift
  mkdir -p "$dir"
  target/release/asapp-sandbox --port 0 --empty "$@" > "$dir/sandbox.log" 2>&1 &
  sandbox_pid=$!
  pids+=("$sandbox_pid")
  sandbox_url=""
  for _ in $(seq 1 100); do
    sandbox_url=$(grep -o 'http://[0-9.:]*' "$dir/sandbox.log" | head -n1 || true)
    [[ -n "$sandbox_url" ]] && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): the sandbox did not start: $(cat "$dir/sandbox.log")" >&2
  exit 1
}
