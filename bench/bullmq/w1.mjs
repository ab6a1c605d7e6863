// W1 ingest on BullMQ: n delayed jobs, each due 1 min–1 h ahead (as taskcenter's W1).
// --batch 1: Queue.add with --inflight calls at once (W1a); else Queue.addBulk (W1b).
import { Queue } from 'bullmq';
import { addJobs, args, connect, emit, pick } from './common.mjs';

const a = args();
const n = Number(a.n ?? 100000);
const batch = Number(a.batch ?? 1);
const inflight = Number(a.inflight ?? 64);

const conn = connect();
await conn.flushall();
const queue = new Queue('w1', { connection: conn });
await queue.waitUntilReady();
const base = Math.floor(Date.now() / 1000) * 1000;
const result = await addJobs(queue, n, batch, inflight, (i) => {
  const now = Date.now();
  const due = base + pick(i, 60, 3600) * 1000;
  return { name: 'w1', data: { d: `w1-${i}` }, opts: { timestamp: now, delay: due - now, removeOnComplete: true } };
});
await queue.close();
conn.disconnect();
emit(result);
