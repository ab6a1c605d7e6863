// M1 capacity on BullMQ: n delayed jobs 1–31 days ahead, added with addBulk of 1000
// (--inflight at once). Redis's resident memory (VmRSS of redis-server) before and after,
// its used_memory, and the time to add. Redis here keeps nothing on disk, so there are no
// bytes on disk and no restart to time (a restart would come back empty).
import { Queue } from 'bullmq';
import { addJobs, args, connect, emit, pick, redisPid, redisUsedMemory, round3, rssOf, sleep } from './common.mjs';

const a = args();
const n = Number(a.n ?? 1000000);
const inflight = Number(a.inflight ?? 4);
const settleMs = Number(a['settle-ms'] ?? 2000);

const conn = connect();
await conn.flushall();
const pid = await redisPid(conn);
const rssEmpty = rssOf(pid);
const queue = new Queue('m1', { connection: conn });
await queue.waitUntilReady();
const base = Math.floor(Date.now() / 1000) * 1000;
const added = await addJobs(queue, n, 1000, inflight, (i) => {
  const now = Date.now();
  const due = base + 86400000 + pick(i, 0, 30 * 86400) * 1000;
  return { name: 'far', data: { d: `far-${i}` }, opts: { timestamp: now, delay: due - now, removeOnComplete: true } };
});
console.error(`  added ${added.accepted} jobs in ${added.secs} s`);
await sleep(settleMs);
const rss = rssOf(pid);
const peak = rssOf(pid, 'VmHWM');
const used = await redisUsedMemory(conn);
const delayed = await queue.getDelayedCount();
await queue.close();
conn.disconnect();
emit({
  tasks: n,
  accepted: added.accepted,
  errors: added.errors,
  first_error: added.first_error,
  add_secs: added.secs,
  add_per_sec: added.per_sec,
  rss_empty_bytes: rssEmpty,
  rss_bytes: rss,
  rss_mib: round3(rss / 1048576),
  peak_rss_bytes: peak,
  used_memory_bytes: used,
  delayed_jobs: delayed,
  disk_bytes: 0,
});
process.exit(0);
