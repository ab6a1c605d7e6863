// Helpers shared by the BullMQ side of the benchmarks: arguments, the Redis connection,
// percentiles (nearest rank, as the Rust driver), Redis's resident memory, output.
import { readFileSync, writeFileSync } from 'node:fs';
import IORedis from 'ioredis';

/** `--key value` pairs of the command line, as strings. */
export function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

/** Port of the bench's private redis-server (never the machine's shared 6379). */
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT || 6390);

/** A new ioredis connection as BullMQ wants it (maxRetriesPerRequest: null). */
export function connect() {
  return new IORedis({ host: '127.0.0.1', port: REDIS_PORT, maxRetriesPerRequest: null });
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

/** `{count, min, p50, p90, p99, max, mean}` of samples in ms. */
export function summary(samples) {
  const s = Float64Array.from(samples).sort();
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
  return {
    count: s.length,
    min: s.length ? s[0] : 0,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : 0,
    mean: round3(mean),
  };
}

export const round3 = (x) => Math.round(x * 1000) / 1000;
export const rate = (n, secs) => (secs > 0 ? Math.round(n / secs) : 0);

/** A value in lo..hi picked by a hash of i (mulberry32), the same every run. */
export function pick(i, lo, hi) {
  let t = (i + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return lo + Math.floor(u * (hi - lo));
}

/** The redis-server's process id, from INFO. */
export async function redisPid(conn) {
  const info = await conn.info('server');
  return Number(/process_id:(\d+)/.exec(info)[1]);
}

/** `used_memory` of Redis, bytes. */
export async function redisUsedMemory(conn) {
  const info = await conn.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/** VmRSS (or another /proc status field) of a process, bytes. */
export function rssOf(pid, field = 'VmRSS') {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(status);
  return Number(m[1]) * 1024;
}

export function writeSamples(path, samples) {
  if (path) writeFileSync(path, samples.join('\n') + '\n');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Adds n jobs made by make(i) (returns {name, data, opts}): single `Queue.add` calls when
 * batch is 1, else `Queue.addBulk` of `batch` jobs; `inflight` calls run at once.
 */
export async function addJobs(queue, n, batch, inflight, make) {
  let next = 0;
  let accepted = 0;
  let errors = 0;
  let firstError = null;
  const progressEvery = n >= 1000000 ? n / 10 : Infinity;
  const t0 = performance.now();
  const loop = async () => {
    for (;;) {
      const start = next;
      if (start >= n) return;
      const end = Math.min(start + batch, n);
      next = end;
      try {
        if (batch === 1) {
          const j = make(start);
          await queue.add(j.name, j.data, j.opts);
        } else {
          const jobs = [];
          for (let i = start; i < end; i++) jobs.push(make(i));
          await queue.addBulk(jobs);
        }
        const before = accepted;
        accepted += end - start;
        if (Math.floor(accepted / progressEvery) > Math.floor(before / progressEvery)) {
          console.error(`  … ${accepted} jobs added in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
      } catch (e) {
        errors += end - start;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  const secs = (performance.now() - t0) / 1000;
  return { tasks: n, accepted, errors, secs: round3(secs), per_sec: rate(accepted, secs), batch, inflight, first_error: firstError };
}

/** Prints the result object as the last line of stdout. */
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
