'use strict';
// The scenarios of the ResilientQueue load test for a node queue library, given an adapter (bullmq.js, bee-queue.js).
// Prints ONE JSON line: the library's own figures (jobs/s, latency, client CPU); run.js measures Redis around it.
//
// An adapter: { name, async open(queue, { concurrency, worker }), async addBulk(payloads), async add(payload),
//   async startWorker(concurrency, onJob), async counts() -> { waiting, active }, async close() }.

const { redisStats } = require('./redis-info');

const PAYLOAD = { url: 'https://example.org/articles/2026/11/22/some-article', depth: 2, tenant: 'acme', n: 12345, stamp: 0 };
const LATENCY_SAMPLES = 2000;

function parseArgs(argv) {
  const o = { scenario: null, concurrency: null, jobs: 100000, warmup: 0, redis: null, timeLimit: 300 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--scenario': o.scenario = value; break;
      case '--concurrency': o.concurrency = int(value, 1, 1000, flag); break;
      case '--jobs': o.jobs = int(value, 1, 5000000, flag); break;
      case '--warmup': o.warmup = int(value, 0, 1000000, flag); break;
      case '--redis': o.redis = value; break;
      case '--time-limit': o.timeLimit = int(value, 1, 7200, flag); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  if (!['prequeued', 'steady', 'latency'].includes(o.scenario)) throw new Error('--scenario is prequeued, steady or latency');
  if (o.concurrency === null) throw new Error('--concurrency is required');
  if (!o.redis) throw new Error('--redis 127.0.0.1:PORT is required');
  const m = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):(\d+)$/.exec(o.redis);
  if (!m) throw new Error(`only loopback servers: --redis ${o.redis} is not 127.x.x.x:PORT, localhost:PORT or [::1]:PORT`);
  o.host = m[1].replace(/^\[|\]$/g, '');
  o.port = Number(m[2]);
  return o;
}

function int(text, min, max, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  return n;
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

// Resolves when the handler ran `target` jobs; then polls until nothing is waiting or active (the last ack was written).
function completion(target) {
  let handled = 0;
  let resolve;
  const reached = new Promise((r) => { resolve = r; });
  const latencies = [];
  const onJob = (data) => {
    if (data && data.stamp) latencies[data.n] = now() - data.stamp;
    if (++handled === target) resolve();
  };
  return { onJob, reached, latencies, handled: () => handled };
}

async function drained(adapter, deadline) {
  for (;;) {
    const { waiting, active } = await adapter.counts();
    if (waiting === 0 && active === 0) return;
    if (now() > deadline) throw new Error(`queue not drained in time: ${waiting} waiting, ${active} active`);
    await sleep(1);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function addInChunks(adapter, jobs, chunk, inFlight) {
  const pending = new Set();
  for (let sent = 0; sent < jobs; sent += chunk) {
    const batch = Array.from({ length: Math.min(chunk, jobs - sent) }, () => PAYLOAD);
    const p = adapter.addBulk(batch).then(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
}

function percentile(sorted, q) { return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] : null; }

// --warmup N: N pre-queued jobs through the same adapter, worker and concurrency on a queue of their own, before the
// measured phase, as in a worker that has been running for a while (V8 has optimised the hot paths). Not measured.
async function warmUp(adapter, o, deadline) {
  if (!o.warmup) return;
  await adapter.open(`peers-warmup-${o.scenario}-${o.concurrency}`, o);
  const done = completion(o.warmup);
  await addInChunks(adapter, o.warmup, 1000, 4);
  await adapter.startWorker(o.concurrency, done.onJob);
  await Promise.race([done.reached, sleep(Math.max(deadline - now(), 0)).then(() => { throw new Error(`warm-up: only ${done.handled()} of ${o.warmup} jobs ran in time`); })]);
  await drained(adapter, deadline);
  await adapter.close();
}

async function main(adapter) {
  const o = parseArgs(process.argv.slice(2));
  const deadline = now() + o.timeLimit * 1000;
  const killer = setTimeout(() => { console.error(`time limit of ${o.timeLimit} s reached`); process.exit(3); }, o.timeLimit * 1000);
  killer.unref();
  const queue = `peers-${o.scenario}-${o.concurrency}`;
  const target = o.scenario === 'latency' ? LATENCY_SAMPLES : o.jobs;
  await warmUp(adapter, o, deadline);
  const redisBefore = o.warmup > 0 ? redisStats(o.host, o.port) : null;
  await adapter.open(queue, o);
  const done = completion(target);
  const result = { library: adapter.name, scenario: o.scenario, concurrency: o.concurrency, jobs: target };

  if (o.scenario === 'prequeued') {
    const t0 = now();
    await addInChunks(adapter, o.jobs, 1000, 4);
    result.enqueueJobsPerSecond = o.jobs / ((now() - t0) / 1000);
  }

  const cpu0 = process.cpuUsage();
  let t0 = now();
  await adapter.startWorker(o.concurrency, done.onJob);
  if (o.scenario === 'steady') {
    t0 = now();
    await addInChunks(adapter, o.jobs, 100, 8);
  } else if (o.scenario === 'latency') {
    await sleep(500); // the worker goes idle
    for (let n = 0; n < LATENCY_SAMPLES; n++) {
      await adapter.add({ ...PAYLOAD, n, stamp: now() });
      await sleep(2);
    }
  }
  await Promise.race([done.reached, sleep(Math.max(deadline - now(), 0)).then(() => { throw new Error(`only ${done.handled()} of ${target} jobs ran in time`); })]);
  await drained(adapter, deadline);
  const seconds = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  result.jobsPerSecond = target / seconds;
  result.clientCpuMicrosecondsPerJob = (cpu.user + cpu.system) / target;
  if (o.scenario === 'latency') {
    const sorted = done.latencies.filter((x) => x !== undefined).sort((a, b) => a - b);
    Object.assign(result, { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] ?? null });
  }
  await adapter.close();
  if (redisBefore) {
    const redisAfter = redisStats(o.host, o.port);
    result.commandsPerJob = (redisAfter.commands - redisBefore.commands) / target;
    result.redisCpuMicrosecondsPerJob = ((redisAfter.cpuSeconds - redisBefore.cpuSeconds) * 1e6) / target;
  }
  console.log(JSON.stringify(result));
  process.exit(0);
}

function run(adapter) {
  main(adapter).catch((e) => { console.error(`${adapter.name}: ${e && e.stack || e}`); process.exit(1); });
}

module.exports = { run, PAYLOAD };
