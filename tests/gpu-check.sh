#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU (finishes in under 3 minutes):
#   1. builds the GPU tests and the server (Release),
#   2. runs the tests marked Category=GPU against the real libnvidia-ml.so.1 (they skip where it does not load),
#   3. starts the server once over stdio, calls probe_gpu through MCP (initialize, initialized, tools/call)
#      and prints the answer.
# Exit status: non-zero when the build, a GPU test or the probe_gpu call failed. Without a GPU it still runs:
# the GPU tests show as skipped and probe_gpu answers available:false with the reason.
#
#   tests/gpu-check.sh                      build here with the .NET SDK, then check
#   tests/gpu-check.sh --bundle DIR         build here and pack what a machine without the SDK or a network needs
#                                           into DIR (the .NET runtime and the built outputs, about 45 MB)
#   tests/gpu-check.sh --from-bundle DIR    check with a bundle made by --bundle (no SDK, no build, no network)
#
# For a lent GPU machine (no SDK, nothing reachable): echo /.gpu-bundle/ >> .git/info/exclude;
# tests/gpu-check.sh --bundle .gpu-bundle; then run "tests/gpu-check.sh --from-bundle .gpu-bundle" there, carrying .gpu-bundle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIGURATION=Release
START=$SECONDS
log() { echo "gpu-check [$((SECONDS - START))s]: $*" >&2; }

MODE=build
BUNDLE=""
work=""
ERR=""
cleanup() { [[ -n "$ERR" ]] && rm -f "$ERR"; [[ -n "$work" ]] && rm -rf "$work"; return 0; }
trap cleanup EXIT
case "${1:-}" in
  "") ;;
  --bundle) MODE=bundle; BUNDLE="${2:?--bundle needs a folder}" ;;
  --from-bundle) MODE=from-bundle; BUNDLE="${2:?--from-bundle needs a folder}" ;;
  *) echo "usage: tests/gpu-check.sh [--bundle DIR | --from-bundle DIR]" >&2; exit 2 ;;
esac

DOTNET=dotnet
TESTS_DIR="tests/ErrorCoordinator.Gpu.Tests/bin/$CONFIGURATION/net10.0"
SERVER_DIR="src/ErrorCoordinator.Mcp/bin/$CONFIGURATION/net10.0"

if [[ "$MODE" != from-bundle ]]; then
  log "building"
  dotnet build tests/ErrorCoordinator.Gpu.Tests/ErrorCoordinator.Gpu.Tests.csproj -c "$CONFIGURATION" -v quiet -nologo
  dotnet build src/ErrorCoordinator.Mcp/ErrorCoordinator.Mcp.csproj -c "$CONFIGURATION" -v quiet -nologo
fi

if [[ "$MODE" == bundle ]]; then
  root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  version="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ { v = $2 } END { print v }')"
  aspnet="$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" && $2 ~ /^10\./ { v = $2 } END { print v }')"
  [[ -n "$version" && -n "$aspnet" ]] || { echo "no .NET 10 runtime found under $root" >&2; exit 1; }
  mkdir -p "$BUNDLE"
  log "packing the .NET $version runtime (ASP.NET Core $aspnet) from $root"
  XZ_OPT="-T0" tar -C "$root" -cJf "$BUNDLE/dotnet-runtime.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$version" "shared/Microsoft.AspNetCore.App/$aspnet"
  tar -czf "$BUNDLE/outputs.tar.gz" "$TESTS_DIR" "$SERVER_DIR"
  du -sh "$BUNDLE" >&2
  log "bundle ready: carry $BUNDLE and run tests/gpu-check.sh --from-bundle $BUNDLE"
  exit 0
fi

if [[ "$MODE" == from-bundle ]]; then
  work="$(mktemp -d)"
  log "unpacking $BUNDLE into $work"
  mkdir -p "$work/dotnet"
  tar -C "$work/dotnet" -xJf "$BUNDLE/dotnet-runtime.tar.xz"
  tar -C "$work" -xzf "$BUNDLE/outputs.tar.gz"
  DOTNET="$work/dotnet/dotnet"
  export DOTNET_ROOT="$work/dotnet"
  TESTS_DIR="$work/$TESTS_DIR"
  SERVER_DIR="$work/$SERVER_DIR"
fi

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.used,memory.total,temperature.gpu --format=csv >&2 || true
else
  log "nvidia-smi not found: the GPU tests will be skipped and probe_gpu should answer available:false"
fi

log "running the Category=GPU tests"
# xunit.v3 test assemblies run themselves: only the runtime is needed.
"$DOTNET" "$TESTS_DIR/ErrorCoordinator.Gpu.Tests.dll" -trait "Category=GPU" -showLiveOutput -noColor

ERR="$(mktemp)"
log "calling probe_gpu through the server (stdio)"
unset REDIS_URL  # the embedded store
coproc SERVER { exec "$DOTNET" "$SERVER_DIR/ErrorCoordinator.Mcp.dll" 2>"$ERR"; }
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
