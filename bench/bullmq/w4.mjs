// W4 loops on BullMQ: n job schedulers (upsertJobScheduler, every 1000 ms, limit = count,
// startDate T0), one worker. Fires per scheduler against count, and the drift of each
// fire's processing time from its ideal grid time T0 + k s (k from the job's scheduled
// time, the millis in its id `repeat:<scheduler>:<millis>`).
import { Queue, Worker } from 'bullmq';
import { args, connect, emit, sleep, summary, writeSamples } from './common.mjs';

const a = args();
const n = Number(a.n ?? 200);
const count = Number(a.count ?? 30);
const concurrency = Number(a.concurrency ?? 100);

const conn = connect();
await conn.flushall();
const queue = new Queue('w4', { connection: conn });
await queue.waitUntilReady();
const perTask = new Map();
const drift = [];
let offGrid = 0;
let fires = 0;
const t0 = (Math.floor(Date.now() / 1000) + Number(a['lead-s'] ?? 3)) * 1000;
const worker = new Worker('w4', async (job) => {
  const at = Date.now();
  const sched = Number(String(job.id).split(':').pop());
  const k = Math.round((sched - t0) / 1000);
  const ideal = t0 + k * 1000;
  if (sched !== ideal) offGrid++;
  drift.push(at - ideal);
  perTask.set(job.data.i, (perTask.get(job.data.i) ?? 0) + 1);
  fires++;
}, { connection: connect(), concurrency, removeOnComplete: { count: 0 } });
await worker.waitUntilReady();
let accepted = 0;
for (let i = 0; i < n; i++) {
  await queue.upsertJobScheduler(`w4-${i}`, { every: 1000, limit: count, startDate: t0 }, {
    name: 'w4', data: { i }, opts: { removeOnComplete: true },
  });
  accepted++;
}
const expected = accepted * count;
const giveUp = t0 + count * 1000 + 15000;
let settleUntil = Infinity;
while (Date.now() < Math.min(giveUp, settleUntil)) {
  if (fires >= expected && settleUntil === Infinity) settleUntil = Date.now() + 1500;
  await sleep(20);
}
await worker.close(true);
await queue.close();
conn.disconnect();
writeSamples(a.samples, drift);
const counts = [...perTask.values()];
emit({
  tasks: n,
  accepted,
  loop_count: count,
  expected_fires: expected,
  fires,
  tasks_seen: counts.length,
  tasks_exact: counts.filter((c) => c === count).length,
  min_fires_per_task: counts.length ? Math.min(...counts) : 0,
  max_fires_per_task: counts.length ? Math.max(...counts) : 0,
  off_grid_fires: offGrid,
  drift_ms: summary(drift),
});
process.exit(0);
