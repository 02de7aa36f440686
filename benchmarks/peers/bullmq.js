'use strict';
// BullMQ on the load test's scenarios: completed and failed jobs removed (removeOnComplete/removeOnFail), no-op handler.
const { Queue, Worker } = require('bullmq');
const { run } = require('./common');

let queue, worker, name, connection;
run({
  name: 'bullmq',
  async open(queueName, o) {
    name = queueName;
    connection = { host: o.host, port: o.port, maxRetriesPerRequest: null };
    queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
    await queue.waitUntilReady();
  },
  addBulk: (payloads) => queue.addBulk(payloads.map((data) => ({ name: 'job', data }))),
  add: (payload) => queue.add('job', payload),
  async startWorker(concurrency, onJob) {
    worker = new Worker(name, async (job) => { onJob(job.data); }, { connection, concurrency });
    await worker.waitUntilReady();
  },
  async counts() {
    const c = await queue.getJobCounts('wait', 'active', 'prioritized', 'paused');
    return { waiting: c.wait + c.prioritized + c.paused, active: c.active };
  },
  async close() {
    await worker.close();
    await queue.close();
  },
});
