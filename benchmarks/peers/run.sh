#!/usr/bin/env bash
# The side-by-side benchmark in one command: BullMQ, bee-queue, the ResilientQueue hosted worker and its raw consumer,
# each scenario interleaved for N reps on ONE redis-server that this script starts (loopback, no persistence) and stops.
# Usage: benchmarks/peers/run.sh [--reps 3] [--jobs 100000] [--output FILE.md] [--scenarios prequeued:1,...] [--time-limit 300]
#                                [--stackexchange-redis 2.13.23|3.4.35] [--warmup JOBS]
# --warmup N runs N pre-queued jobs through each library's worker in the same process before each measured run
# (default 0: cold processes). --libraries picks some of bullmq, bee-queue, resilientqueue-hosted, resilientqueue-raw,
# resilientqueue-streams-hosted, resilientqueue-streams-raw (default: the first four; bullmq always, the ratios are to it).
# Installs what is missing (node/npm and redis-server through apt-get, the pinned npm packages through npm ci) and
# builds the load test in Release on the StackExchange.Redis line asked for (artifacts in $RESQ_PEERS_ARTIFACTS/se-VERSION, default /tmp/resq-peers-art). $RESQ_COMMIT names
# the commit measured in the report when the tree is not a git work tree (e.g. a git archive).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
reps=3 jobs=100000 output="" scenarios="" time_limit=300 ser=2.13.23 warmup=0 libraries=""
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { echo "$1 needs a value" >&2; exit 2; }
  case "$1" in
    --reps) reps="$2" ;;
    --jobs) jobs="$2" ;;
    --output) output="$2" ;;
    --scenarios) scenarios="$2" ;;
    --time-limit) time_limit="$2" ;;
    --stackexchange-redis) ser="$2" ;;
    --warmup) warmup="$2" ;;
    --libraries) libraries="$2" ;;
    *) echo "unknown option $1 (usage: run.sh [--reps 3] [--jobs 100000] [--output FILE.md] [--scenarios prequeued:1,steady:100] [--time-limit SECONDS] [--stackexchange-redis VERSION] [--warmup JOBS] [--libraries bullmq,...])" >&2; exit 2 ;;
  esac
  shift 2
done
[[ "$reps" =~ ^[0-9]+$ && "$reps" -ge 1 && "$reps" -le 20 ]] || { echo "--reps must be 1 to 20" >&2; exit 2; }
[[ "$jobs" =~ ^[0-9]+$ && "$jobs" -ge 100 && "$jobs" -le 5000000 ]] || { echo "--jobs must be 100 to 5,000,000" >&2; exit 2; }
[[ "$warmup" =~ ^[0-9]+$ && "$warmup" -le 1000000 ]] || { echo "--warmup must be 0 to 1,000,000" >&2; exit 2; }
[[ "$ser" =~ ^[23]\.[0-9]+\.[0-9]+$ ]] || { echo "--stackexchange-redis takes a version such as 2.13.23 or 3.4.35, not $ser" >&2; exit 2; }
output="${output:-$root/benchmarks/results/$(date -u +%F)-peers.md}"

apt_updated=""
need() { # need COMMAND DEBIAN-PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 (for $1)" >&2
  [[ -n "$apt_updated" ]] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >/dev/null
}
need node nodejs
need npm npm
need redis-server redis-server
need redis-cli redis-tools
command -v dotnet >/dev/null || { echo "dotnet (the .NET 10 SDK) is needed to build the load test" >&2; exit 1; }

if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

artifacts="${RESQ_PEERS_ARTIFACTS:-/tmp/resq-peers-art}/se-$ser" # one build per client line (their restores differ)
dotnet build "$root/benchmarks/ResilientQueue.LoadTest/ResilientQueue.LoadTest.csproj" -c Release -p:StackExchangeRedisVersion="$ser" --artifacts-path "$artifacts" -v quiet -nologo >&2
dll="$artifacts/bin/ResilientQueue.LoadTest/release/ResilientQueue.LoadTest.dll"
[[ -f "$dll" ]] || { echo "the load test was not built at $dll" >&2; exit 1; }
commit="${RESQ_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
if [[ -n "$(git -C "$root" status --porcelain -- src 2>/dev/null)" ]]; then commit="$commit + uncommitted changes in src/"; fi
commit="$commit, StackExchange.Redis $ser"

port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --maxmemory-policy noeviction \
  --dir "$(mktemp -d)" --daemonize no --loglevel warning >/dev/null &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do redis-cli -h 127.0.0.1 -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -h 127.0.0.1 -p "$port" PING >/dev/null || { echo "redis-server did not start on port $port" >&2; exit 1; }

args=(--port "$port" --dll "$dll" --reps "$reps" --jobs "$jobs" --warmup "$warmup" --output "$output" --time-limit "$time_limit" --commit "$commit")
[[ -z "$scenarios" ]] || args+=(--scenarios "$scenarios")
[[ -z "$libraries" ]] || args+=(--libraries "$libraries")
node "$here/run.js" "${args[@]}"
