// A W2 consumer process: one BullMQ Worker with --concurrency; every ~20 ms it prints
// `B <last_ms> <lateness_ms>…` for the jobs it started since (lateness = the time the
// processor was called minus the job's due time). Prints `ready` once connected.
import { Worker } from 'bullmq';
import { args, connect } from './common.mjs';

const a = args();
const concurrency = Number(a.concurrency ?? 100);
let pending = [];
let lastAt = 0;
const worker = new Worker(
  a.queue ?? 'w2',
  async (job) => {
    const at = Date.now();
    lastAt = at;
    pending.push(at - job.data.due);
  },
  { connection: connect(), concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
);
await worker.waitUntilReady();
const flush = () => {
  if (pending.length === 0) return;
  process.stdout.write(`B ${lastAt} ${pending.join(' ')}\n`);
  pending = [];
};
setInterval(flush, 20);
process.stdout.write('ready\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
