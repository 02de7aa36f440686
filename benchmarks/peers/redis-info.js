'use strict';
// What the server says about its own work, read with redis-cli the same way for every library: commands (every call,
// including those scripts ran; INFO itself left out) and main-thread CPU seconds. Used by run.js around each run and,
// with --warmup, by the node adapters' runner (common.js) around the measured phase only.
const { execFileSync } = require('node:child_process');

function info(host, port, section) {
  const text = execFileSync('redis-cli', ['-h', host, '-p', String(port), 'INFO', section], { encoding: 'utf8', timeout: 10000 });
  const fields = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

function redisStats(host, port) {
  let commands = 0;
  for (const [key, value] of Object.entries(info(host, port, 'commandstats'))) {
    if (key.startsWith('cmdstat_') && key !== 'cmdstat_info') commands += Number(/calls=(\d+)/.exec(value)[1]);
  }
  const cpu = info(host, port, 'cpu');
  const cpuSeconds = 'used_cpu_sys_main_thread' in cpu
    ? Number(cpu.used_cpu_sys_main_thread) + Number(cpu.used_cpu_user_main_thread)
    : Number(cpu.used_cpu_sys) + Number(cpu.used_cpu_user);
  return { commands, cpuSeconds };
}

module.exports = { info, redisStats };
