// W2 burst on BullMQ: n delayed jobs all due at the same instant T, drained by one worker
// process and then (on an emptied Redis) by two. Same figures as taskcenter's W2.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { addJobs, args, connect, emit, rate, round3, summary, writeSamples } from './common.mjs';

const a = args();
const n = Number(a.n ?? 100000);
const concurrency = Number(a.concurrency ?? 100);
const marginMs = Number(a['margin-ms'] ?? 5000 + n / 10);
const deadlineMs = 120000;

async function startWorker(onBatch) {
  const child = spawn(process.execPath, [new URL('./worker.mjs', import.meta.url).pathname, '--concurrency', String(concurrency)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    lines.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(`worker said ${l}`))));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  lines.on('line', (l) => {
    const f = l.split(' ');
    if (f[0] !== 'B') return;
    onBatch(Number(f[1]), f.slice(2).map(Number));
  });
  return child;
}

async function run(workers, samplesPath) {
  const conn = connect();
  await conn.flushall();
  const queue = new Queue('w2', { connection: conn });
  await queue.waitUntilReady();
  const lateness = [];
  let lastAt = -Infinity;
  let wake = () => {};
  const onBatch = (at, lats) => {
    lastAt = Math.max(lastAt, at);
    for (const l of lats) lateness.push(l);
    wake();
  };
  const children = [];
  for (let k = 0; k < workers; k++) children.push(await startWorker(onBatch));
  const due = (Math.floor((Date.now() + marginMs) / 1000) + 1) * 1000;
  const added = await addJobs(queue, n, 1000, 4, (i) => {
    const now = Date.now();
    return { name: 'w2', data: { d: `w2-${i}`, due }, opts: { timestamp: now, delay: due - now, removeOnComplete: true } };
  });
  const addedAt = Date.now();
  console.error(`  added ${added.accepted} jobs in ${added.secs} s, ${due - addedAt} ms before T`);
  while (lateness.length < added.accepted && Date.now() < due + deadlineMs) {
    await new Promise((r) => {
      wake = r;
      setTimeout(r, 500);
    });
  }
  for (const c of children) c.kill('SIGKILL');
  await queue.close();
  conn.disconnect();
  if (samplesPath) writeSamples(samplesPath, lateness);
  const drain = (lastAt - due) / 1000;
  return {
    tasks: n,
    accepted: added.accepted,
    consumed: lateness.length,
    consumers: workers,
    concurrency,
    add_secs: added.secs,
    added_before_due: addedAt <= due,
    drain_s: round3(drain),
    fires_per_sec: rate(lateness.length, drain),
    lateness_ms: summary(lateness),
  };
}

const out = {};
for (const [key, workers] of [['one', 1], ['two', 2]]) {
  console.error(`  W2 with ${workers} worker process(es)`);
  out[key] = await run(workers, workers === 1 ? a.samples : undefined);
}
emit(out);
process.exit(0);
