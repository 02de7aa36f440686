#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian/Ubuntu machine.
#  - installs redis-server with apt-get when it is missing (the Redis tests start their own server on a free
#    loopback port; set RESILIENTQUEUE_REDIS=host:port to use a running loopback server instead);
#  - builds and runs every test project of ResilientQueue.sln;
#  - ends with one plain line: "N passed, N failed, N skipped".
# Extra arguments go to `dotnet test` (e.g. ./test.sh --filter "FullyQualifiedName~InMemory").
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK 10 is required (dotnet was not found on PATH): https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 2
fi

if [ -z "${RESILIENTQUEUE_REDIS:-}" ] && ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  echo "redis-server not found: installing it with apt-get"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

set +e
dotnet test ResilientQueue.sln --logger "trx" --results-directory "$results" "$@"
rc=$?
set -e

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  value() { printf '%s\n' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done

if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with code $rc (build error or crashed test host; $files result files)" >&2
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
