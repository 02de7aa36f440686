'use strict';
// bee-queue on the load test's scenarios: successful and failed jobs removed (removeOnSuccess/removeOnFailure), no-op
// handler; the producer is a non-worker queue without events (bee-queue's own advice), the worker keeps its defaults.
const Queue = require('bee-queue');
const { run } = require('./common');

let producer, worker;
run({
  name: 'bee-queue',
  async open(name, o) {
    const redis = { host: o.host, port: o.port };
    producer = new Queue(name, { redis, isWorker: false, getEvents: false });
    worker = new Queue(name, { redis, removeOnSuccess: true, removeOnFailure: true });
    await Promise.all([producer.ready(), worker.ready()]);
  },
  addBulk: (payloads) => producer.saveAll(payloads.map((data) => producer.createJob(data))).then((errors) => {
    if (errors.size > 0) throw new Error(`saveAll failed for ${errors.size} jobs: ${[...errors.values()][0]}`);
  }),
  add: (payload) => producer.createJob(payload).save(),
  async startWorker(concurrency, onJob) {
    worker.process(concurrency, async (job) => { onJob(job.data); });
  },
  async counts() {
    const h = await producer.checkHealth();
    return { waiting: h.waiting, active: h.active };
  },
  async close() {
    await Promise.all([worker.close(5000), producer.close(5000)]);
  },
});
