#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU (finishes in under 3 minutes):
#   1. builds the GPU tests and the server (Release),
#   2. runs the tests marked Category=GPU against the real libnvidia-ml.so.1 (they skip where it does not load),
#   3. starts the server once over stdio, calls probe_gpu through MCP (initialize, initialized, tools/call)
#      and prints the answer.
# Exit status: non-zero when the build, a GPU test or the probe_gpu call failed. Without a GPU it still runs:
# the GPU tests show as skipped and probe_gpu answers available:false with the reason.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIGURATION=Release
START=$SECONDS
log() { echo "gpu-check [$((SECONDS - START))s]: $*" >&2; }

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,uuid,memory.used,memory.total,temperature.gpu --format=csv >&2 || true
else
  log "nvidia-smi not found: the GPU tests will be skipped and probe_gpu should answer available:false"
fi

log "building"
dotnet build tests/ErrorCoordinator.Gpu.Tests/ErrorCoordinator.Gpu.Tests.csproj -c "$CONFIGURATION" -v quiet -nologo
dotnet build src/ErrorCoordinator.Mcp/ErrorCoordinator.Mcp.csproj -c "$CONFIGURATION" -v quiet -nologo

log "running the Category=GPU tests"
dotnet test tests/ErrorCoordinator.Gpu.Tests/ErrorCoordinator.Gpu.Tests.csproj -c "$CONFIGURATION" --no-build \
  --filter "Category=GPU" --logger "console;verbosity=detailed"

DLL="src/ErrorCoordinator.Mcp/bin/$CONFIGURATION/net10.0/ErrorCoordinator.Mcp.dll"
ERR="$(mktemp)"
trap 'rm -f "$ERR"' EXIT
log "calling probe_gpu through the server (stdio)"
unset REDIS_URL  # the embedded store
coproc SERVER { exec dotnet "$DLL" 2>"$ERR"; }
SERVER_PID=$SERVER_PID
send() { printf '%s\n' "$1" >&"${SERVER[1]}"; }
# Reads lines until the response with the given id; fails after 60 s.
receive() {
  local line
  while IFS= read -r -t 60 line <&"${SERVER[0]}"; do
    if [[ "$line" == *"\"id\":$1"* ]]; then printf '%s\n' "$line"; return 0; fi
  done
  echo "no response with id $1; server stderr:" >&2
  cat "$ERR" >&2
  return 1
}
send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"gpu-check","version":"1.0.0"}}}'
receive 1 >/dev/null
send '{"jsonrpc":"2.0","method":"notifications/initialized"}'
send '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"probe_gpu","arguments":{}}}'
RESPONSE="$(receive 2)"
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true

echo "probe_gpu:"
if command -v python3 >/dev/null 2>&1; then
  printf '%s' "$RESPONSE" | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
for c in r.get("content", []):
    if c.get("type") == "text": print(c["text"])
print(json.dumps(r.get("structuredContent"), indent=2))
sys.exit(1 if r.get("isError") else 0)'
else
  printf '%s\n' "$RESPONSE"
  [[ "$RESPONSE" != *'"isError":true'* ]]
fi
log "done"
