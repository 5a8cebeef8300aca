import { type ChildProcess, spawn } from 'node:child_process';
import {
  FEED_JOBS,
  type FanoutChunkJob,
  type FanoutJob,
  followersKey,
  QUEUES,
  TIMELINE_SENTINEL,
  timelineKey,
} from '@murmur/contracts';
import { BullJobQueue, QUEUE_PREFIX, redisConnectionOptions } from '@murmur/queue';
import { serviceEntry, serviceEnv } from '@murmur/stack';
import { freePort, REPO_ROOT, testTopology, waitFor } from '@murmur/testing';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { asFanoutProgress, fanoutChunkId, type FanoutResult } from './fanout.service';

const t = testTopology();
const dataRedis = t.redis.find((r) => r.purpose === 'queue');
/**
 * A database of the test stack's data Redis that no stack process uses: the feed workers this
 * test starts and kills are the only ones on its `feed` queue, and its keys are this test's own.
 */
const REDIS_URL = `redis://127.0.0.1:${dataRedis?.port}/11`;
const FOLLOWERS = 20_000;
const CHUNK = 50;
const WORKER_ENV = {
  REDIS_URL,
  FANOUT_CHUNK_SIZE: String(CHUNK),
  // One job at a time, so a kill lands inside the phase the test waits for.
  QUEUE_CONCURRENCY: '1',
  // A killed worker's job is back to wait ~1-2 s after the kill, not the default ~30-90 s.
  QUEUE_LOCK_DURATION_MS: '1000',
  QUEUE_STALLED_INTERVAL_MS: '500',
  QUEUE_MAX_STALLED_COUNT: '3',
  // Its database is empty of everything but this test's keys: nothing to rebuild into it.
  REBUILD_CHECK_MS: '0',
  LOG_LEVEL: 'warn',
};

/** A feed worker process (the built `dist/` code the stack runs), on this test's database. */
class WorkerProcess {
  private output = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
  }

  static async start(name: string): Promise<WorkerProcess> {
    const proc = t.services.find((s) => s.name === 'feed-worker');
    if (!proc) {
      throw new Error('the test topology has no feed-worker');
    }
    const port = await freePort();
    const env = serviceEnv(t, proc, {
      extra: { ...WORKER_ENV, PORT: String(port), INSTANCE_NAME: name },
    });
    const child = spawn(process.execPath, [serviceEntry(proc)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    const worker = new WorkerProcess(name, child);
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`${name} exited: ${worker.output}`);
        }
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return res.ok ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `${name} ready` },
    );
    return worker;
  }

  /** SIGKILL: no shutdown hook runs, its active jobs keep their locks until they expire. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  get log(): string {
    return this.output;
  }
}

describe('a chunked fan-out under worker crashes (real Redis, real worker processes)', () => {
  const redis = new Redis(REDIS_URL);
  // Jobs are enqueued through the port, as the post service's relay does; read back raw.
  const queue = new Queue(QUEUES.feed, {
    connection: redisConnectionOptions(REDIS_URL),
    prefix: QUEUE_PREFIX,
  });
  const feedQueue = new BullJobQueue(QUEUES.feed, queue);
  const workers: WorkerProcess[] = [];
  const authorId = '4200000001';
  const followers = Array.from({ length: FOLLOWERS }, (_, i) => String(5_000_000_000 + i));
  let n = 0;

  const startWorker = async (): Promise<WorkerProcess> => {
    const w = await WorkerProcess.start(`fanout-crash-worker-${++n}`);
    workers.push(w);
    return w;
  };

  /** How many of the followers' timelines hold `postId` now. */
  const reached = async (postId: string): Promise<number> => {
    const pipeline = redis.pipeline();
    followers.forEach((f) => pipeline.zscore(timelineKey(f), postId));
    const results = (await pipeline.exec()) ?? [];
    return results.filter(([error, score]) => error === null && score !== null).length;
  };

  const enqueuePost = async (name: string): Promise<{ job: FanoutJob; jobId: string }> => {
    const job: FanoutJob = { postId: `${Date.now()}${n}`, authorId, createdAt: Date.now() };
    const jobId = `evt-fanout-crash-${name}`;
    await feedQueue.add(FEED_JOBS.fanout, job, { jobId, attempts: 3 });
    return { job, jobId };
  };

  const parentJob = async (jobId: string): Promise<Job> => {
    const job = await queue.getJob(jobId);
    if (!job) {
      throw new Error(`no job ${jobId}`);
    }
    return job;
  };

  /** The post's chunk jobs (ids `<parent>-chunk-<n>`, n from 0 up to what the parent says). */
  const chunkJobs = async (jobId: string, chunks: number): Promise<Job<FanoutChunkJob>[]> => {
    const jobs = await Promise.all(
      Array.from({ length: chunks }, (_, i) => queue.getJob(fanoutChunkId(jobId, i))),
    );
    return jobs.filter((j): j is Job<FanoutChunkJob> => j !== undefined);
  };

  /** BullMQ's `duplicated` events for this parent's chunk ids: chunks queued a second time. */
  const requeuedChunks = async (jobId: string): Promise<number> => {
    const events = await redis.xrange(`${QUEUE_PREFIX}:${QUEUES.feed}:events`, '-', '+');
    return events.filter(([, fields]) => {
      const f = Object.fromEntries(
        Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]),
      );
      return f.event === 'duplicated' && String(f.jobId).startsWith(`${jobId}-chunk-`);
    }).length;
  };

  /** Everything a finished fan-out must show: every follower once, every job completed. */
  const expectDelivered = async (
    post: FanoutJob,
    jobId: string,
  ): Promise<Job<FanoutChunkJob>[]> => {
    const parent = await waitFor(
      async () => {
        const job = await parentJob(jobId);
        const state = await job.getState();
        return state === 'completed' || state === 'failed' ? job : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the fan-out job finished' },
    );
    expect(parent.failedReason).toBeUndefined();
    const { chunks } = parent.returnvalue as FanoutResult;
    expect(chunks).toBeGreaterThanOrEqual(FOLLOWERS / CHUNK);
    const jobs = await chunkJobs(jobId, chunks);
    expect(jobs).toHaveLength(chunks);
    await waitFor(async () => ((await reached(post.postId)) === FOLLOWERS ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'every follower timeline holding the post',
    });
    const states = await Promise.all(jobs.map((j) => j.getState()));
    expect(states.filter((s) => s !== 'completed')).toEqual([]);
    // Every follower in exactly one chunk, no chunk over the bound; each timeline holds the
    // post once (and nothing else but its sentinel: these timelines exist only for this test).
    const fresh = await chunkJobs(jobId, chunks);
    expect(Math.max(...fresh.map((j) => j.data.followerIds.length))).toBeLessThanOrEqual(CHUNK);
    expect(fresh.flatMap((j) => j.data.followerIds).sort()).toEqual([...followers].sort());
    const pipeline = redis.pipeline();
    followers.forEach((f) => pipeline.zrange(timelineKey(f), 0, -1));
    const timelines = ((await pipeline.exec()) ?? []).map(([, members]) => members as string[]);
    expect(
      timelines.filter((m) => m.length !== 2 || m[0] !== TIMELINE_SENTINEL || m[1] !== post.postId),
    ).toEqual([]);
    return fresh;
  };

  beforeAll(async () => {
    await redis.flushdb();
    for (let i = 0; i < FOLLOWERS; i += 5_000) {
      await redis.sadd(followersKey(authorId), ...followers.slice(i, i + 5_000));
    }
  });

  beforeEach(async () => {
    // Every follower has read their (empty) feed: their timelines are materialised, so a fan-out
    // writes into each (an unread one is passed over: timeline.repository.integration-spec).
    const pipeline = redis.pipeline();
    followers.forEach((f) => pipeline.zadd(timelineKey(f), 0, TIMELINE_SENTINEL));
    await pipeline.exec();
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    // The next test starts with an empty queue and empty timelines; the followers set stays.
    await queue.obliterate({ force: true });
    const pipeline = redis.pipeline();
    followers.forEach((f) => pipeline.del(timelineKey(f)));
    await pipeline.exec();
  });

  afterAll(async () => {
    await queue.close();
    await redis.flushdb();
    redis.disconnect();
  });

  it('resumes a post job killed twice mid-scan from its saved cursor: every follower reached once', async () => {
    const first = await startWorker();
    const { job: post, jobId } = await enqueuePost('scan');
    const progressAtLeast = (chunk: number) => async () => {
      const p = asFanoutProgress((await parentJob(jobId)).progress);
      return p && p.chunk >= chunk ? p : undefined;
    };
    await waitFor(progressAtLeast(40), { timeoutMs: 20_000, intervalMs: 2, what: 'chunk 40' });
    await first.kill();
    const killedAt = asFanoutProgress((await parentJob(jobId)).progress);
    expect(await (await parentJob(jobId)).getState()).toBe('active');

    // The next worker takes the stalled job over once its lock expires and goes on from there;
    // it is killed in the scan too (BullMQ's default maxStalledCount, 1, fails a job here).
    const second = await startWorker();
    await waitFor(progressAtLeast((killedAt?.chunk ?? 0) + 60), {
      timeoutMs: 20_000,
      intervalMs: 2,
      what: 'the resumed scan 60 chunks further',
    });
    await second.kill();
    expect(await (await parentJob(jobId)).getState()).toBe('active');

    await startWorker();
    await expectDelivered(post, jobId);
    const parent = await parentJob(jobId);
    expect(parent.stalledCounter).toBe(2);
    // Each re-run queued again at most the chunk it was cutting (a start over: 40 and more).
    await expect(requeuedChunks(jobId)).resolves.toBeLessThanOrEqual(2);
  }, 120_000);

  it('finishes the chunks of a worker killed half-way through them: every follower reached once', async () => {
    const first = await startWorker();
    const { job: post, jobId } = await enqueuePost('chunks');
    // The post job has queued every chunk, some have run (one at a time, in order), most not.
    const chunk20 = async () => (await queue.getJob(fanoutChunkId(jobId, 20)))?.getState();
    await waitFor(async () => ((await chunk20()) === 'completed' ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 2,
      what: 'the post job done and 20 chunks run',
    });
    await first.kill();
    expect(await (await parentJob(jobId)).getState()).toBe('completed');
    const before = await reached(post.postId);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(FOLLOWERS);

    await startWorker();
    const chunks = await expectDelivered(post, jobId);
    // The chunk that was running when the worker died went back to wait and ran again.
    expect(chunks.filter((j) => j.stalledCounter > 0).length).toBeGreaterThanOrEqual(1);
    await expect(requeuedChunks(jobId)).resolves.toBe(0);
  }, 120_000);
});
