'use strict';
// Runs every scenario of every library INTERLEAVED for N reps against one redis-server, measures Redis commands/job
// and main-thread CPU/job itself from INFO around each run (the same way for every library), and writes a markdown
// table of medians with ratios to BullMQ. Started by run.sh, which starts the server and builds the load test.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const redisInfo = require('./redis-info');

const ALL_LIBRARIES = ['bullmq', 'bee-queue', 'resilientqueue-hosted', 'resilientqueue-raw', 'resilientqueue-streams-hosted', 'resilientqueue-streams-raw'];
const DEFAULT_LIBRARIES = ['bullmq', 'bee-queue', 'resilientqueue-hosted', 'resilientqueue-raw'];
const LABELS = {
  bullmq: 'BullMQ 6.7.0',
  'bee-queue': 'bee-queue 2.0.0',
  'resilientqueue-hosted': 'ResilientQueue hosted worker',
  'resilientqueue-raw': 'ResilientQueue raw consumer',
  'resilientqueue-streams-hosted': 'ResilientQueue hosted worker, stream backend',
  'resilientqueue-streams-raw': 'ResilientQueue raw consumer, stream backend',
};
let LIBRARIES = DEFAULT_LIBRARIES;
const ALL_SCENARIOS = ['prequeued:1', 'prequeued:10', 'prequeued:100', 'steady:100', 'latency:10'];

function parseArgs(argv) {
  const o = { reps: 3, jobs: 100000, warmup: 0, port: null, dll: null, output: null, timeLimit: 300, scenarios: ALL_SCENARIOS, commit: 'unknown' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--reps') o.reps = int(v, 1, 20, flag);
    else if (flag === '--jobs') o.jobs = int(v, 100, 5000000, flag);
    else if (flag === '--warmup') o.warmup = int(v, 0, 1000000, flag);
    else if (flag === '--port') o.port = int(v, 1, 65535, flag);
    else if (flag === '--dll') o.dll = v;
    else if (flag === '--output') o.output = v;
    else if (flag === '--time-limit') o.timeLimit = int(v, 10, 3600, flag);
    else if (flag === '--commit') o.commit = v;
    else if (flag === '--scenarios') {
      o.scenarios = v.split(',');
      const bad = o.scenarios.filter((s) => !/^(prequeued|steady|latency):\d+$/.test(s));
      if (bad.length) throw new Error(`--scenarios takes scenario:concurrency items (e.g. prequeued:100,steady:100), not ${bad.join(', ')}`);
    } else if (flag === '--libraries') {
      o.libraries = v.split(',');
      const bad = o.libraries.filter((l) => !ALL_LIBRARIES.includes(l));
      if (bad.length || !o.libraries.includes('bullmq')) throw new Error(`--libraries takes some of ${ALL_LIBRARIES.join(', ')}, bullmq among them (the ratios are to it), not ${v}`);
    } else throw new Error(`unknown option ${flag}`);
  }
  if (!o.port || !o.dll) throw new Error('--port and --dll are required (run.sh passes them)');
  return o;
}

function int(text, min, max, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  return n;
}

const info = (port, section) => redisInfo.info('127.0.0.1', port, section);
const redisStats = (port) => redisInfo.redisStats('127.0.0.1', port);

function command(library, scenario, concurrency, o) {
  if (library.startsWith('resilientqueue-streams-')) {
    const [file, args] = command(`resilientqueue-${library.slice('resilientqueue-streams-'.length)}`, scenario, concurrency, o);
    return [file, [...args, '--backend', 'streams']];
  }
  const common = ['--scenario', scenario, '--concurrency', String(concurrency), '--jobs', String(o.jobs), '--warmup', String(o.warmup), '--redis', `127.0.0.1:${o.port}`, '--time-limit', String(o.timeLimit)];
  if (library.startsWith('resilientqueue-')) return ['dotnet', [o.dll, ...common, '--consumer', library.slice('resilientqueue-'.length), '--json']];
  return [process.execPath, [path.join(__dirname, `${library}.js`), ...common]];
}

function runOne(library, scenario, concurrency, o) {
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(o.port), 'FLUSHALL'], { timeout: 30000 });
  const before = redisStats(o.port);
  const [file, args] = command(library, scenario, concurrency, o);
  const child = spawnSync(file, args, { encoding: 'utf8', timeout: (o.timeLimit + 30) * 1000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  const after = redisStats(o.port);
  const line = (child.stdout || '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (child.status !== 0 || !line) {
    const why = child.error ? child.error.message : `exit ${child.status} ${child.signal || ''}`;
    process.stderr.write(`FAILED ${library} ${scenario} c=${concurrency}: ${why}\n${(child.stderr || '').split('\n').slice(-8).join('\n')}\n`);
    return null;
  }
  const r = JSON.parse(line);
  return {
    library, scenario, concurrency, jobs: r.jobs,
    jobsPerSecond: r.jobsPerSecond,
    // Cold runs: measured here around the whole child. Warm runs: the child measured its measured phase itself (the
    // same INFO fields; node: redis-info.js, .NET: the load test's RedisStats), so the warm-up is left out.
    commandsPerJob: o.warmup > 0 ? r.commandsPerJob : (after.commands - before.commands) / r.jobs,
    redisCpuMicrosecondsPerJob: o.warmup > 0 ? r.redisCpuMicrosecondsPerJob : ((after.cpuSeconds - before.cpuSeconds) * 1e6) / r.jobs,
    clientCpuMicrosecondsPerJob: r.clientCpuMicrosecondsPerJob,
    allocatedBytesPerJob: r.allocatedBytesPerJob ?? null,
    p50Ms: r.p50Ms ?? null, p99Ms: r.p99Ms ?? null, maxMs: r.maxMs ?? null,
    // .NET: warm-up rounds run until the JIT settles (the load test's warmupJobs), and the JIT time inside the run.
    warmupJobs: r.warmupJobs ?? o.warmup, jitMilliseconds: r.jitMilliseconds ?? null,
  };
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, digits = 0) => (x === null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratio = (x, base) => (x === null || !base ? '–' : `${(x / base).toFixed(2)}×`);

function table(runs, o) {
  const lines = [
    '| scenario | library | jobs/s (median) | jobs/s min–max | jobs/s × BullMQ | Redis commands/job | Redis CPU µs/job | Redis CPU × BullMQ | client CPU µs/job | allocated B/job | pickup p50 / p99 / max | warm-up jobs | JIT ms in run |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const key of o.scenarios) {
    const [scenario, c] = key.split(':');
    const med = {};
    for (const lib of LIBRARIES) {
      const rs = runs.filter((r) => r.library === lib && r.scenario === scenario && r.concurrency === Number(c));
      med[lib] = rs.length === 0 ? null : {
        n: rs.length,
        jobsPerSecond: median(rs.map((r) => r.jobsPerSecond)),
        min: Math.min(...rs.map((r) => r.jobsPerSecond)), max: Math.max(...rs.map((r) => r.jobsPerSecond)),
        commandsPerJob: median(rs.map((r) => r.commandsPerJob)),
        redisCpu: median(rs.map((r) => r.redisCpuMicrosecondsPerJob)),
        clientCpu: median(rs.map((r) => r.clientCpuMicrosecondsPerJob)),
        allocated: median(rs.map((r) => r.allocatedBytesPerJob)),
        p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)), maxMs: median(rs.map((r) => r.maxMs)),
        warmupJobs: median(rs.map((r) => r.warmupJobs)), jit: median(rs.map((r) => r.jitMilliseconds)),
      };
    }
    const base = med.bullmq;
    const title = scenario === 'latency' ? `idle pickup, C=${c}` : scenario === 'steady' ? `steady, C=${c}` : `pre-queued, C=${c}`;
    for (const lib of LIBRARIES) {
      const m = med[lib];
      if (!m) { lines.push(`| ${title} | ${LABELS[lib]} | failed | | | | | | | | | | |`); continue; }
      const latency = scenario === 'latency' ? `${fmt(m.p50, 2)} / ${fmt(m.p99, 2)} / ${fmt(m.maxMs, 2)} ms` : '';
      const rate = scenario === 'latency' ? '–' : fmt(m.jobsPerSecond);
      lines.push(`| ${title} | ${LABELS[lib]}${m.n < o.reps ? ` (${m.n} of ${o.reps} runs)` : ''} | ${rate} | ${scenario === 'latency' ? '–' : `${fmt(m.min)}–${fmt(m.max)}`} | ${scenario === 'latency' ? '–' : ratio(m.jobsPerSecond, base && base.jobsPerSecond)} | ${fmt(m.commandsPerJob, 2)} | ${fmt(m.redisCpu, 1)} | ${ratio(m.redisCpu, base && base.redisCpu)} | ${fmt(m.clientCpu, 1)} | ${fmt(m.allocated)} | ${latency} | ${fmt(m.warmupJobs)} | ${fmt(m.jit)} |`);
    }
  }
  return lines.join('\n');
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.libraries) LIBRARIES = o.libraries;
  const version = info(o.port, 'server').redis_version;
  const runs = [];
  const started = new Date();
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const key of o.scenarios) {
      const [scenario, c] = key.split(':');
      // Interleaved: each scenario runs every library in turn; the order rotates each rep.
      const order = LIBRARIES.map((_, i) => LIBRARIES[(i + rep - 1) % LIBRARIES.length]);
      for (const lib of order) {
        const r = runOne(lib, scenario, Number(c), o);
        if (r) {
          runs.push(r);
          process.stderr.write(`rep ${rep} ${scenario} c=${c} ${lib}: ${fmt(r.jobsPerSecond)} jobs/s, ${fmt(r.commandsPerJob, 2)} commands/job, ${fmt(r.redisCpuMicrosecondsPerJob, 1)} µs Redis CPU/job${r.p99Ms !== null ? `, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms` : ''}\n`);
        }
      }
    }
  }
  const md = [
    `# Side by side: ResilientQueue, BullMQ and bee-queue on one redis-server`,
    '',
    `- date: ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; ResilientQueue commit ${o.commit}; machine: ${require('node:os').cpus().length} cores; node ${process.version}; redis-server ${version} on loopback, no persistence, one server for every run (FLUSHALL between runs)`,
    `- ${fmt(o.jobs)} jobs per run (idle pickup: 2,000 jobs, one every 2 ms); payload: the same ~107 bytes of JSON; no-op handler; completed jobs removed (BullMQ removeOnComplete/removeOnFail, bee-queue removeOnSuccess/removeOnFailure, ResilientQueue removes on ack)`,
    o.warmup > 0
      ? `- warm: before each measured run, ${fmt(o.warmup)} pre-queued jobs ran through the same library, worker and concurrency in the same process (not measured), as in a worker that has been running for a while; the Redis figures then come from the process itself, over its measured phase only (the same INFO fields). The .NET processes then run more rounds of ${fmt(o.warmup)} while the runtime is still tiering up (until a round after the first spends under 5 % of its time in the JIT, at most 10 more; medians in the last two columns): on 2 cores the background tier-1 compiler competes with the worker and redis-server, and after 150,000 jobs the hosted worker's per-job methods were still instrumented tier-0 code. V8 has no such lag here: BullMQ at C=100 ran 19,465 jobs/s after 150,000 warm-up jobs and 20,387 after 600,000 (one run each, within its spread), so node keeps the fixed count`
      : '- cold: each run is its process\'s first (JIT, tiered compilation and V8 optimisation happen during the run)',
    `- ${o.reps} reps, every scenario runs each library in turn (order rotated per rep); medians; ratios to BullMQ: jobs/s (higher is better) and Redis CPU/job (lower is better)`,
    '- pre-queued: bulk add in chunks of 1,000 (4 in flight), then start the worker; jobs/s = jobs / (worker start to last ack). steady: a producer adds batches of 100 (8 in flight) while the worker runs; jobs/s = jobs / (first add to last ack). The last ack: the handler ran every job, then the queue was polled until nothing was waiting or active',
    `- Redis commands/job and CPU/job: from \`INFO commandstats\` (every call, including those scripts ran) and \`INFO cpu\` (main thread, sys + user) ${o.warmup > 0 ? 'read by each process before and after its measured phase' : 'read by this runner before and after each run'}, over the jobs' whole life (add + process + remove), the same way for every library; client CPU/job and allocations (.NET only) are the process's own over the consuming window`,
    '',
    table(runs, o),
    '',
    `Reproduce: \`benchmarks/peers/run.sh --reps ${o.reps} --jobs ${o.jobs}${o.warmup > 0 ? ` --warmup ${o.warmup}` : ''}${o.scenarios !== ALL_SCENARIOS ? ` --scenarios ${o.scenarios.join(',')}` : ''}${o.libraries ? ` --libraries ${o.libraries.join(',')}` : ''}\``,
    '',
  ].join('\n');
  console.log(md);
  if (o.output) {
    fs.mkdirSync(path.dirname(o.output), { recursive: true });
    fs.writeFileSync(o.output, md);
    fs.writeFileSync(o.output.replace(/\.md$/, '') + '.runs.json', JSON.stringify(runs, null, 1) + '\n');
    console.error(`written to ${o.output}`);
  }
}

main();
