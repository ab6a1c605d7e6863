// W3 precision on BullMQ: n delayed jobs due over spread-s seconds, on the same whole
// seconds as taskcenter's W3 (n / spread-s on each); lateness = the time the processor was
// called minus the job's due time. One worker. `--ms-spread 1` spreads the due times over
// every millisecond of the window instead (taskcenter's add API takes whole seconds).
import { Queue, Worker } from 'bullmq';
import { addJobs, args, connect, emit, sleep, summary, writeSamples } from './common.mjs';

const a = args();
const n = Number(a.n ?? 2000);
const spread = Math.max(1, Number(a['spread-s'] ?? 20));
const concurrency = Number(a.concurrency ?? 100);
const msSpread = a['ms-spread'] === '1';

const conn = connect();
await conn.flushall();
const queue = new Queue('w3', { connection: conn });
await queue.waitUntilReady();
const lateness = [];
const worker = new Worker('w3', async (job) => { lateness.push(Date.now() - job.data.due); }, {
  connection: connect(),
  concurrency,
  removeOnComplete: { count: 0 },
});
await worker.waitUntilReady();
const t0 = (Math.floor(Date.now() / 1000) + Number(a['lead-s'] ?? 3)) * 1000;
const added = await addJobs(queue, n, 1000, 2, (i) => {
  const now = Date.now();
  // --ms-spread 1: due times spread evenly over the ms of the window instead of whole seconds.
  const due = msSpread ? t0 + Math.floor((i * spread * 1000) / n) : t0 + (i % spread) * 1000;
  return { name: 'w3', data: { d: `w3-${i}`, due }, opts: { timestamp: now, delay: due - now, removeOnComplete: true } };
});
const addedAt = Date.now();
const giveUp = t0 + spread * 1000 + 30000;
while (lateness.length < added.accepted && Date.now() < giveUp) await sleep(20);
await worker.close(true);
await queue.close();
conn.disconnect();
writeSamples(a.samples, lateness);
emit({
  tasks: n,
  accepted: added.accepted,
  consumed: lateness.length,
  spread_s: spread,
  ms_spread: msSpread,
  added_before_first_due: addedAt <= t0,
  lateness_ms: summary(lateness),
});
process.exit(0);
