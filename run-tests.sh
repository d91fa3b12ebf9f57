#!/usr/bin/env bash
# The one test command: installs what is missing (redis-server, Node 22, the interop npm packages),
# starts a private redis-server on a free port, builds the solution once (Release), runs every test
# project one after the other with a TRX logger and ends with one line: "N passed, N failed, N skipped".
# Exit status is non-zero when the build or any test failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$PWD"

CONFIGURATION=Release
INTEROP_DIR="$ROOT/tests/ErrorCoordinator.Mcp.Tests/Interop/node"
NODE22_PREFIX="$ROOT/.tools/node22"
NODE22_BIN="$NODE22_PREFIX/node_modules/node/bin/node"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export CI="${CI:-true}"

log() { echo "run-tests: $*" >&2; }

RESULTS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ec-test-results.XXXXXX")"
REDIS_PID=""
REDIS_DIR=""
cleanup() {
  if [[ -n "$REDIS_PID" ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  [[ -n "$REDIS_DIR" ]] && rm -rf "$REDIS_DIR"
  [[ -n "${KEEP_TEST_RESULTS:-}" ]] || rm -rf "$RESULTS_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints the closing line and exits; used for set-up failures too, so the line is always there.
finish() { # passed failed skipped
  echo "$1 passed, $2 failed, $3 skipped"
  if [[ "$2" -gt 0 ]]; then exit 1; fi
  exit 0
}
setup_failed() { log "$*"; finish 0 1 0; }

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 1
  fi
}

# --- redis-server --------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  log "installing redis-server"
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server; } >&2 \
    || setup_failed "could not install redis-server (apt-get as root or with sudo)"
fi

# --- Node 22 (the conformance CLI needs it) -------------------------------------------------------
node_major() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }
NODE22=""
if [[ -n "${EC_NODE22:-}" && "$(node_major "$EC_NODE22")" -ge 22 ]] 2>/dev/null; then
  NODE22="$EC_NODE22"
elif command -v node >/dev/null 2>&1 && [[ "$(node_major node)" -ge 22 ]] 2>/dev/null; then
  NODE22="$(command -v node)"
else
  if [[ ! -x "$NODE22_BIN" ]]; then
    command -v npm >/dev/null 2>&1 || setup_failed "npm is needed to install Node 22 (install nodejs and npm)"
    log "installing Node 22 into $NODE22_PREFIX"
    npm install --prefix "$NODE22_PREFIX" --no-save --loglevel=error node@22 >&2 \
      || setup_failed "could not install Node 22 (npm install --prefix $NODE22_PREFIX node@22)"
  fi
  NODE22="$NODE22_BIN"
fi
[[ "$(node_major "$NODE22")" -ge 22 ]] 2>/dev/null || setup_failed "no working Node 22 at $NODE22"
log "Node 22: $NODE22 ($("$NODE22" --version))"

# --- npm packages of the interop tests (the TypeScript SDK client, the conformance CLI) ----------
lock_stamp="$INTEROP_DIR/node_modules/.package-lock.json"
if [[ ! -f "$lock_stamp" || "$INTEROP_DIR/package-lock.json" -nt "$lock_stamp" ]]; then
  log "npm ci in $INTEROP_DIR"
  (cd "$INTEROP_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 \
    || setup_failed "npm ci failed in $INTEROP_DIR"
fi

# --- a private redis-server on a free port --------------------------------------------------------
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
REDIS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ec-redis.XXXXXX")"
for attempt in 1 2 3; do
  REDIS_PORT="$(free_port)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 1 100); do
    [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" == PONG ]] && break
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" == PONG ]] && break
  log "redis-server on port $REDIS_PORT did not start (attempt $attempt): $(tail -n 3 "$REDIS_DIR/redis.log" 2>/dev/null || true)"
  kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=""
done
[[ -n "$REDIS_PID" ]] || setup_failed "could not start redis-server"
log "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"

export EC_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export EC_NODE22="$NODE22"
export EC_INTEROP_DIR="$INTEROP_DIR"
unset REDIS_URL

# --- build once ------------------------------------------------------------------------------------
log "dotnet build ErrorCoordinator.Mcp.sln -c $CONFIGURATION"
if ! dotnet build ErrorCoordinator.Mcp.sln -c "$CONFIGURATION" -nologo -clp:ErrorsOnly; then
  log "the build failed"
  finish 0 1 0
fi

# --- every test project, one at a time -------------------------------------------------------------
test_rc=0
for project in tests/*.Tests/*.Tests.csproj; do
  name="$(basename "$project" .csproj)"
  log "dotnet test $name"
  if ! dotnet test "$project" -c "$CONFIGURATION" --no-build --nologo \
      --results-directory "$RESULTS_DIR" --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal"; then
    test_rc=1
    echo "$name" >> "$RESULTS_DIR/nonzero-exit.txt"
  elif [[ ! -f "$RESULTS_DIR/$name.trx" ]]; then
    log "$name wrote no TRX file"
    echo "$name" >> "$RESULTS_DIR/nonzero-exit.txt"
  fi
done

# --- totals from the TRX files ----------------------------------------------------------------------
totals="$(python3 - "$RESULTS_DIR" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
results_dir = sys.argv[1]
passed = failed = skipped = 0
bad_projects = set()
for path in sorted(glob.glob(os.path.join(results_dir, "*.trx"))):
    root = ET.parse(path).getroot()
    p = f = 0
    for r in root.iter(ns + "UnitTestResult"):
        outcome = r.get("outcome", "")
        if outcome == "Passed": p += 1
        elif outcome in ("NotExecuted", "Inconclusive", "Pending", "Warning"): skipped += 1
        else:
            f += 1
            name = r.get("testName", "?")
            msg = r.find(f"{ns}Output/{ns}ErrorInfo/{ns}Message")
            first = (msg.text or "").strip().splitlines()[0] if msg is not None and msg.text else ""
            print(f"FAILED {name}: {first[:300]}", file=sys.stderr)
    passed += p; failed += f
    if f: bad_projects.add(os.path.splitext(os.path.basename(path))[0])
# A project that exited non-zero without a failed test in its TRX (a crash, a run error) counts as one failure.
nonzero = os.path.join(results_dir, "nonzero-exit.txt")
if os.path.exists(nonzero):
    for name in sorted(set(open(nonzero).read().split())):
        if name not in bad_projects:
            print(f"FAILED {name}: dotnet test exited non-zero without a failed test (crash or run error)", file=sys.stderr)
            failed += 1
print(passed, failed, skipped)
PY
)" || { log "could not read the TRX files in $RESULTS_DIR"; totals="0 1 0"; }
read -r passed failed skipped <<< "$totals"
if [[ "$failed" -eq 0 && "$test_rc" -ne 0 ]]; then failed=1; fi
finish "$passed" "$failed" "$skipped"
