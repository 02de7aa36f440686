#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian/Ubuntu machine; CI (.ci/run) runs exactly this. See docs/testing.md.
#
#  - installs what is missing with apt-get (root or sudo): redis-server (redis-server and redis-cli for the local-process
#    path, the test cluster and redis-cli monitor), docker.io and iproute2, and chromium (the dashboard's browser tests
#    drive it through Playwright by its path; without it they fail, and this script says so loudly);
#  - starts a private Docker engine (its own socket, data root, bridge; no iptables, no forwarding; ports published on
#    127.0.0.1) and builds the image redis:7.0 in it from Debian's redis-server and redis-cli binaries (no image registry
#    is needed); it is stopped again, by its PID, when the script ends. If Docker cannot be had, the Redis tests run on
#    local redis-server processes instead (said loudly; not a failure by itself);
#  - runs, each with a heading and its test count:
#      [1/5] every test project of ResilientQueue.sln but the limiter's timed scenarios and the samples, the Redis tests through
#            Testcontainers, StackExchange.Redis 2.13.23 with RESP2 (the package's floor and the client's default protocol);
#      [2/5] the Redis conformance suites and the fixture tests on StackExchange.Redis 3.4.35 with RESP3 (built apart);
#      [3/5] the local redis-server path (Docker off): fixture tests, list conformance and restart tests;
#      [4/5] the adaptive limiter's scenarios against a real HTTP server (ResilientQueue.Limiter.Tests), alone on the
#            machine: they measure latency and time, and the storm and load tests of run 1 beside them starve them;
#      [5/5] the samples' runs (ResilientQueue.Samples.Tests: CrawlPipeline and LlmExtraction --quick on the in-memory
#            backend and on Redis, the crawl's kill -9 and resume), alone and one at a time: each must finish in 30 s;
#  - ends with one plain line, "N passed, N failed", summed over the runs (skipped counts are on the line before).
#
# Arguments go to `dotnet test` of one run of the whole solution instead of the five runs
# (./test.sh --filter "FullyQualifiedName~InMemory"). Environment:
#   RESILIENTQUEUE_REDIS_DOCKER=off   no Docker at all (local redis-server processes); =on: fail when Docker cannot be had
#   RESILIENTQUEUE_REDIS=host:port    a running loopback server for the Redis tests (no Docker either)
#   RESILIENTQUEUE_ARTIFACTS_PATH     where builds go (default: artifacts/ in the repository; se2/ and se3/ below it)
#   RESILIENTQUEUE_CHROMIUM           the Chromium the browser tests launch (default /usr/bin/chromium, installed if missing)
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK 10 is required (dotnet was not found on PATH): https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Testcontainers' reaper (Ryuk) needs an image from a registry; the Redis fixture removes its container itself.
export TESTCONTAINERS_RYUK_DISABLED=true

artifacts="${RESILIENTQUEUE_ARTIFACTS_PATH:-$PWD/artifacts}"
work="$(mktemp -d /tmp/resq-test.XXXXXX)"
docker_mode="${RESILIENTQUEUE_REDIS_DOCKER:-auto}"
dockerd_pid=""
docker_state=""
docker_bridge=""

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"; else return 1; fi
}

loud() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!!! $*" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
}

# ---------------------------------------------------------------------------------------------------- packages
want_docker=1
if [ "$docker_mode" = "off" ] || [ -n "${RESILIENTQUEUE_REDIS:-}" ]; then want_docker=0; fi
missing=()
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then missing+=(redis-server); fi
if [ "$want_docker" -eq 1 ] && ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ]; then missing+=(docker.io); fi
if [ "$want_docker" -eq 1 ] && ! command -v ip >/dev/null 2>&1; then missing+=(iproute2); fi
# The dashboard's browser tests drive Debian's Chromium by its path (Playwright downloads no browser).
chromium="${RESILIENTQUEUE_CHROMIUM:-/usr/bin/chromium}"
want_chromium=0
if [ -z "${RESILIENTQUEUE_CHROMIUM:-}" ] && [ ! -x "$chromium" ]; then want_chromium=1; fi
apt_updated=0
# apt_install <package...>: installs them in one apt-get call (after one apt-get update); says so on failure.
apt_install() {
  echo "Installing with apt-get: $*"
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq >"$work/apt.log" 2>&1 && apt_updated=1; fi
  if ! { [ "$apt_updated" -eq 1 ] && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >>"$work/apt.log" 2>&1; }; then
    tail -n 20 "$work/apt.log" >&2 2>/dev/null || true
    echo "apt-get could not install $* (root or passwordless sudo is needed)." >&2
    return 1
  fi
}
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}" || true; fi
# Apart from the rest, so that a Chromium that cannot be had does not keep redis-server from being installed.
if [ "$want_chromium" -eq 1 ]; then apt_install chromium || true; fi
if [ -z "${RESILIENTQUEUE_REDIS:-}" ] && ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  echo "redis-server is required for the Redis tests: sudo apt-get install -y redis-server (or set RESILIENTQUEUE_REDIS=127.0.0.1:6379)." >&2
  exit 2
fi
if [ -x "$chromium" ]; then
  echo "Chromium for the dashboard's browser tests: $chromium ($("$chromium" --version 2>/dev/null || echo "version unknown"))"
else
  loud "Chromium was not found at $chromium and could not be installed: the dashboard's browser tests (ResilientQueue.AspNetCore.Tests) will FAIL. Install it: sudo apt-get install -y chromium (or set RESILIENTQUEUE_CHROMIUM)."
fi

# ---------------------------------------------------------------------------------------------------- docker
stop_docker() {
  if [ -n "$dockerd_pid" ]; then
    DOCKER_HOST="unix://$docker_state/docker.sock" docker ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="unix://$docker_state/docker.sock" docker rm -f >/dev/null 2>&1 || true
    local containerd_pid=""
    containerd_pid="$(cat "$docker_state/exec/containerd/containerd.pid" 2>/dev/null || true)"
    kill -TERM "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$dockerd_pid" 2>/dev/null; then
      kill -KILL "$dockerd_pid" 2>/dev/null || true
      if [ -n "$containerd_pid" ]; then kill -KILL "$containerd_pid" 2>/dev/null || true; fi
    fi
    wait "$dockerd_pid" 2>/dev/null || true
    dockerd_pid=""
  fi
  if [ -n "$docker_bridge" ]; then as_root ip link delete "$docker_bridge" 2>/dev/null || true; docker_bridge=""; fi
  if [ -n "$docker_state" ]; then
    as_root umount -R "$docker_state/root" 2>/dev/null || true
    as_root rm -rf "$docker_state" 2>/dev/null || true
    docker_state=""
  fi
}

cleanup() {
  stop_docker >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts dockerd on its own socket and builds redis:7.0 in it; returns non-zero (with the reason on stderr) on any failure.
start_docker() {
  local dockerd docker
  dockerd="$(command -v dockerd || echo /usr/sbin/dockerd)"
  docker="$(command -v docker || echo /usr/bin/docker)"
  [ -x "$dockerd" ] || { echo "dockerd is not installed" >&2; return 1; }
  [ -x "$docker" ] || { echo "the docker command is not installed" >&2; return 1; }
  command -v ip >/dev/null 2>&1 || { echo "ip (iproute2) is not installed" >&2; return 1; }
  as_root true || { echo "starting a Docker engine needs root or passwordless sudo" >&2; return 1; }

  docker_state="$(mktemp -d /tmp/resq-docker.XXXXXX)"
  # A bridge of its own, on a /24 no other interface or route uses (another run of this script on the same machine
  # gets another one), so that no docker0, other engine's network or other run is touched.
  local subnet="" routes n
  routes="$(ip -4 route show 2>/dev/null || true)"
  for i in $(seq 0 199); do
    n=$(( ( $$ + i ) % 200 + 20 ))
    if ! printf '%s\n' "$routes" | grep -q "^10\.254\.$n\."; then subnet="10.254.$n"; break; fi
  done
  [ -n "$subnet" ] || { echo "no free 10.254.N.0/24 subnet for the bridge" >&2; return 1; }
  docker_bridge="resq$$"
  as_root ip link add name "$docker_bridge" type bridge || { docker_bridge=""; echo "could not create the bridge" >&2; return 1; }
  as_root ip addr add "$subnet.1/24" dev "$docker_bridge" && as_root ip link set "$docker_bridge" up || return 1

  if [ "$(id -u)" -eq 0 ]; then
    "$dockerd" --host "unix://$docker_state/docker.sock" --data-root "$docker_state/root" --exec-root "$docker_state/exec" \
      --pidfile "$docker_state/dockerd.pid" --ip 127.0.0.1 --bridge "$docker_bridge" --iptables=false --ip-forward=false \
      --ip-masq=false >"$docker_state/dockerd.log" 2>&1 </dev/null &
  else
    sudo -n "$dockerd" --host "unix://$docker_state/docker.sock" --data-root "$docker_state/root" --exec-root "$docker_state/exec" \
      --pidfile "$docker_state/dockerd.pid" --ip 127.0.0.1 --bridge "$docker_bridge" --iptables=false --ip-forward=false \
      --ip-masq=false --group "$(id -gn)" >"$docker_state/dockerd.log" 2>&1 </dev/null &
  fi
  dockerd_pid=$!
  export DOCKER_HOST="unix://$docker_state/docker.sock"
  local ready=0
  for _ in $(seq 1 120); do
    if "$docker" version >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  if [ "$ready" -ne 1 ]; then
    tail -n 15 "$docker_state/dockerd.log" >&2 2>/dev/null || true
    if kill -0 "$dockerd_pid" 2>/dev/null; then
      echo "dockerd did not answer on $DOCKER_HOST within 60 s" >&2
    else
      echo "dockerd exited before it answered on $DOCKER_HOST" >&2
    fi
    return 1
  fi
  # Testcontainers asks for API 1.44 unless told; Debian 12's engine (20.10) speaks 1.41.
  DOCKER_API_VERSION="$("$docker" version --format '{{.Server.APIVersion}}')"
  export DOCKER_API_VERSION

  # redis:7.0 from Debian's binaries: redis-server (a copy of redis-check-rdb, which picks its role by name), redis-cli
  # (the Redis module's wait strategy runs it inside the container), every library ldd lists and the dynamic loader.
  local rootfs="$docker_state/rootfs" server cli lib
  server="$(readlink -f "$(command -v redis-server || echo /usr/bin/redis-server)")"
  cli="$(readlink -f "$(command -v redis-cli || echo /usr/bin/redis-cli)")"
  mkdir -p "$rootfs/usr/bin" "$rootfs/tmp" "$rootfs/data"
  chmod 1777 "$rootfs/tmp"
  cp "$server" "$rootfs/usr/bin/redis-server"
  cp "$cli" "$rootfs/usr/bin/redis-cli"
  for lib in $(ldd "$server" "$cli" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  tar -C "$rootfs" -c . | "$docker" import -c 'ENTRYPOINT ["/usr/bin/redis-server"]' - redis:7.0 >/dev/null || return 1
  "$docker" run --rm redis:7.0 --version >/dev/null || { echo "the redis:7.0 image does not run" >&2; return 1; }
  echo "Docker engine $("$docker" version --format '{{.Server.Version}}') (API $DOCKER_API_VERSION, pid $dockerd_pid) on $DOCKER_HOST, bridge $docker_bridge ($subnet.0/24); image redis:7.0 built from $server ($("$rootfs/usr/bin/redis-server" --version | awk '{print $3}'))"
}

if [ "$want_docker" -eq 1 ]; then
  echo "==> Docker: starting a private engine and building redis:7.0"
  if start_docker 2>"$work/docker.err"; then
    export RESILIENTQUEUE_REDIS_DOCKER=on
  else
    cat "$work/docker.err" >&2
    stop_docker >/dev/null 2>&1 || true
    unset DOCKER_HOST DOCKER_API_VERSION
    if [ "$docker_mode" = "on" ]; then
      echo "RESILIENTQUEUE_REDIS_DOCKER=on, but Docker could not be set up." >&2
      exit 1
    fi
    loud "Docker could not be set up: the Redis tests run on local redis-server processes instead of Testcontainers."
    export RESILIENTQUEUE_REDIS_DOCKER=off
  fi
fi

# ---------------------------------------------------------------------------------------------------- runs
total_passed=0; total_failed=0; total_skipped=0; status=0; summaries=()

# run <label> <heading> <dotnet test arguments...>: one `dotnet test` with its own TRX folder, counted.
run() {
  local label="$1" heading="$2"; shift 2
  local results="$work/results-${label%%/*}" log="$work/log-${label%%/*}.txt"
  echo
  echo "==> [$label] $heading"
  local run_start run_seconds=$SECONDS
  run_start="$(date +%s)"
  set +e
  dotnet test "$@" --logger trx --results-directory "$results" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local passed=0 failed=0 skipped=0 files=0 trx counters
  for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    files=$((files + 1))
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    value() { local v; v="$(printf '%s\n' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")"; echo "${v:-0}"; }
    passed=$((passed + $(value passed)))
    failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
    # xunit's skipped tests are results with outcome NotExecuted (the Counters element does not count them).
    skipped=$((skipped + $( (grep -o 'outcome="NotExecuted"' "$trx" || true) | wc -l)))
  done
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "dotnet test exited with code $rc (build error or crashed test host; $files result files)" >&2
    failed=1
  fi
  if [ "$rc" -ne 0 ]; then status=1; fi
  if [ "$files" -eq 0 ] || [ "$((passed + failed))" -eq 0 ]; then
    echo "[$label] ran no test" >&2
    status=1
  fi
  local failed_names=""
  if [ "$failed" -ne 0 ]; then
    # The failed tests by name (from the TRX files), so that the end of the output says which ones they were.
    failed_names="$(cat "$results"/*.trx 2>/dev/null | grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' \
      | sed -n 's/.* testName="\([^"]*\)".*/\1/p' | sed 's/&quot;/"/g; s/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g' | head -n 20 || true)"
  fi
  if [ "$failed" -ne 0 ] && [ -n "$dockerd_pid" ]; then
    echo "--- Docker engine events during [$label] (the last 60), for the failures above:"
    timeout 20 docker events --since "$run_start" --until "$(date +%s)" --format '{{.Time}} {{.Type}} {{.Action}} {{.Actor.ID}}' 2>&1 | tail -n 60 || true
    echo "--- Last lines of the Docker engine's log:"
    tail -n 20 "$docker_state/dockerd.log" 2>/dev/null || true
  fi
  local server
  server="$(grep -o 'Redis tests: server = .*' "$log" | head -n 1 || true)"
  run_seconds=$((SECONDS - run_seconds))
  echo "<== [$label] $heading: $passed passed, $failed failed, $skipped skipped ($run_seconds s)${server:+ -- $server}"
  summaries+=("[$label] $passed passed, $failed failed, $skipped skipped ($run_seconds s) -- $heading${server:+ -- $server}")
  if [ -n "$failed_names" ]; then
    while IFS= read -r name; do summaries+=("    failed: $name"); done <<<"$failed_names"
  fi
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed)); total_skipped=$((total_skipped + skipped))
}

if [ "$#" -gt 0 ]; then
  run "1/1" "ResilientQueue.sln with: $*" ResilientQueue.sln --artifacts-path "$artifacts/se2" "$@"
else
  server_kind="local redis-server processes"
  if [ -n "${RESILIENTQUEUE_REDIS:-}" ]; then server_kind="RESILIENTQUEUE_REDIS=$RESILIENTQUEUE_REDIS";
  elif [ "${RESILIENTQUEUE_REDIS_DOCKER:-auto}" = "on" ]; then server_kind="Testcontainers (redis:7.0)"; fi

  # RESILIENTQUEUE_REDIS_PROTOCOL unset: the client's default, which is RESP2 on 2.x (a fixture test checks it).
  unset RESILIENTQUEUE_REDIS_PROTOCOL
  # The limiter's scenarios measure latency on this machine: run 4/5 runs them alone (the CPU-heavy storm and restart
  # tests of run 1 beside them made a follow-the-capacity scenario miss its 2.5 s once in CI).
  run "1/5" "whole suite (every test project but the limiter's timed scenarios and the samples); Redis tests on $server_kind; StackExchange.Redis 2.13.23, RESP2 (default protocol)" \
    ResilientQueue.sln --artifacts-path "$artifacts/se2" --filter "FullyQualifiedName!~ResilientQueue.Limiter.Tests&FullyQualifiedName!~ResilientQueue.Samples.Tests"

  RESILIENTQUEUE_REDIS_PROTOCOL=resp3 \
    run "2/5" "Redis conformance suites + fixture tests on $server_kind; StackExchange.Redis 3.4.35, RESP3" \
    tests/ResilientQueue.Redis.Tests -p:StackExchangeRedisVersion=3.4.35 --artifacts-path "$artifacts/se3" \
    --filter "FullyQualifiedName~ConformanceTests|FullyQualifiedName~ResilientQueue.Redis.Tests.Infrastructure"

  if [ -z "${RESILIENTQUEUE_REDIS:-}" ]; then
    RESILIENTQUEUE_REDIS_DOCKER=off RESILIENTQUEUE_REDIS_PROTOCOL=resp2 \
      run "3/5" "local redis-server path (Docker off): fixture, list conformance and restart tests; StackExchange.Redis 2.13.23, RESP2" \
      tests/ResilientQueue.Redis.Tests --no-build --artifacts-path "$artifacts/se2" \
      --filter "FullyQualifiedName~ResilientQueue.Redis.Tests.Infrastructure|FullyQualifiedName~RedisListJobQueueConformanceTests|FullyQualifiedName~RedisRestartTests"
  fi

  run "4/5" "the adaptive limiter's scenarios against a real HTTP server, alone on the machine (no Redis)" \
    tests/ResilientQueue.Limiter.Tests --no-build --artifacts-path "$artifacts/se2"

  # The samples' --quick runs are timed (each must end within 30 s) and start fake servers of their own: alone too.
  run "5/5" "the samples' runs (CrawlPipeline, LlmExtraction: --quick in memory and on Redis, kill -9 and resume), alone on the machine" \
    tests/ResilientQueue.Samples.Tests --no-build --artifacts-path "$artifacts/se2"
fi

stop_docker
echo
echo "Summary ($SECONDS s in all, installs and Docker set-up included):"
for line in "${summaries[@]}"; do echo "  $line"; done
echo "skipped: $total_skipped"
echo "$total_passed passed, $total_failed failed"
exit "$status"
