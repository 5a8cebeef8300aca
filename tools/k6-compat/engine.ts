/**
 * The runner side: VU threads (one VU per worker thread), the HTTP thread, and the executors that
 * hand iterations to VUs on schedule. Every sample comes back here into one MetricStore.
 */
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { MetricStore } from './metrics';
import { arrivals, plannedMs, rampingTarget, type Scenario } from './options';
import type { FromVu, Sample, Tags, ToHttp, ToVu, VuInit } from './protocol';

type Done = Extract<FromVu, { type: 'done' }>;

/**
 * VUs beyond these are started when first needed rather than before the run: a k6 VU costs a
 * few MB, a worker thread tens. An iteration that waits for a preallocated VU to start is late,
 * not dropped; beyond preAllocatedVUs an iteration with no free VU is dropped, as in k6.
 */
const EAGER_VUS = 8;
/** VU threads starting at once: more only compete for the same cores. */
const MAX_STARTING_VUS = 2;
const MAX_PRINTED_ERRORS = 10;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Vu {
  private pending?: { resolve: (d: Done) => void; reject: (e: Error) => void };
  private dead?: Error;

  constructor(
    readonly id: number,
    private readonly worker: Worker,
    onLog: (vu: number, msg: Extract<FromVu, { type: 'log' }>) => void,
  ) {
    worker.on('message', (msg: FromVu) => {
      if (msg.type === 'log') {
        onLog(id, msg);
      } else if (msg.type === 'done') {
        const p = this.pending;
        this.pending = undefined;
        p?.resolve(msg);
      }
    });
    const die = (error: Error): void => {
      this.dead = error;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(error);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`VU ${id} stopped (exit ${code})`)));
  }

  call(msg: ToVu): Promise<Done> {
    if (this.dead) {
      return Promise.reject(this.dead);
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg);
    });
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

export interface EngineConfig {
  entry: string;
  modules: Map<string, { code: string }>;
  env: Record<string, string>;
  log: (line: string) => void;
}

export class Engine {
  readonly store = new MetricStore();
  private readonly http: Worker;
  private readonly vus: Vu[] = [];
  private nextId = 1;
  private setupData?: string;
  private errorsPrinted = 0;
  errors = 0;
  interrupted = 0;
  stopping = false;

  constructor(private readonly config: EngineConfig) {
    this.http = new Worker(path.join(__dirname, 'http-worker.js'));
    this.http.unref();
  }

  /** Start a VU thread and run the script's init code in it. */
  async startVu(id = this.nextId++): Promise<{ vu: Vu; exports: string[]; options: string }> {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    this.http.postMessage({ type: 'register', port: port2, signal } satisfies ToHttp, [port2]);
    const init: VuInit = {
      vu: id,
      entry: this.config.entry,
      modules: [...this.config.modules].map(([file, m]) => [file, m.code]),
      env: this.config.env,
      setupData: this.setupData,
      httpPort: port1,
      httpSignal: signal,
    };
    const worker = new Worker(path.join(__dirname, 'vu-worker.js'), {
      workerData: init,
      transferList: [port1],
    });
    const ready = await new Promise<Extract<FromVu, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (msg: FromVu): void => {
        if (msg.type === 'ready') {
          worker.off('message', onMessage);
          resolve(msg);
        } else if (msg.type === 'init-error') {
          reject(new ScriptError(`init of VU ${id}: ${msg.message}`));
        } else if (msg.type === 'log') {
          this.printLog(id, msg);
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    const vu = new Vu(id, worker, (n, m) => this.printLog(n, m));
    this.vus.push(vu);
    return { vu, exports: ready.exports, options: ready.options };
  }

  setSetupData(json: string | undefined): void {
    this.setupData = json;
  }

  get setupDataJson(): string | undefined {
    return this.setupData;
  }

  private printLog(vu: number, msg: Extract<FromVu, { type: 'log' }>): void {
    const level = { info: 'INFO', warn: 'WARN', error: 'ERRO' }[msg.level];
    this.config.log(`${level}[vu ${vu}] ${msg.message} source=console`);
  }

  reportError(where: string, error: string): void {
    this.errors++;
    if (this.errorsPrinted < MAX_PRINTED_ERRORS) {
      this.errorsPrinted++;
      this.config.log(`ERRO ${where}: ${error}`);
      if (this.errorsPrinted === MAX_PRINTED_ERRORS) {
        this.config.log(`ERRO (further script errors are counted, not printed)`);
      }
    }
  }

  /** One iteration of a scenario on a VU, with its samples and the iteration metrics. */
  async iterate(vu: Vu, s: Scenario, iteration: number): Promise<void> {
    const tags: Tags = { ...s.tags, scenario: s.name };
    let done: Done;
    try {
      done = await vu.call({ type: 'call', fn: s.exec, scenarioTags: tags, iteration });
    } catch {
      this.interrupted++;
      return;
    }
    this.store.add(done.samples);
    if (done.error !== undefined) {
      this.reportError(`scenario ${s.name}, VU ${vu.id}`, done.error);
    }
    this.store.add([
      { metric: 'iterations', value: 1, tags: { ...tags, group: '' } },
      { metric: 'iteration_duration', value: done.durationMs, tags: { ...tags, group: '' } },
    ]);
  }

  /** Run one scenario to its end (graceful stop included). */
  async runScenario(s: Scenario): Promise<void> {
    if (s.startTimeMs > 0) {
      await sleep(s.startTimeMs);
    }
    switch (s.executor) {
      case 'shared-iterations':
      case 'per-vu-iterations':
      case 'constant-vus':
      case 'ramping-vus':
        return this.closedModel(s);
      case 'constant-arrival-rate':
      case 'ramping-arrival-rate':
        return this.openModel(s);
    }
  }

  private async closedModel(s: Scenario): Promise<void> {
    const count =
      s.executor === 'ramping-vus'
        ? Math.max(s.startVUs, ...s.stages.map((st) => st.target))
        : 'vus' in s
          ? s.vus
          : 1;
    const vus = await Promise.all(
      Array.from({ length: count }, () => this.startVu().then((r) => r.vu)),
    );
    const started = Date.now();
    const end = started + plannedMs(s);
    let shared = s.executor === 'shared-iterations' ? s.iterations : 0;
    const loop = async (vu: Vu, index: number): Promise<void> => {
      for (let i = 0; !this.stopping && Date.now() < end;) {
        if (s.executor === 'shared-iterations') {
          if (shared <= 0) {
            return;
          }
          shared--;
        } else if (s.executor === 'per-vu-iterations' && i >= s.iterations) {
          return;
        } else if (
          s.executor === 'ramping-vus' &&
          index >= rampingTarget(s, Date.now() - started)
        ) {
          await sleep(50);
          continue;
        }
        await this.iterate(vu, s, i++);
      }
    };
    await this.withGracefulStop(
      s,
      vus.map((vu, i) => loop(vu, i)),
      vus,
      end,
    );
  }

  private async openModel(
    s: Scenario & { preAllocatedVUs: number; maxVUs: number },
  ): Promise<void> {
    const free: Vu[] = [];
    const all: Vu[] = [];
    const iterationsOf = new Map<Vu, number>();
    const eager = Math.min(s.preAllocatedVUs, EAGER_VUS);
    for (const { vu } of await Promise.all(Array.from({ length: eager }, () => this.startVu()))) {
      free.push(vu);
      all.push(vu);
    }
    let allocated = eager;
    let initializing = 0;
    /** Due iterations waiting for a preallocated VU that is still starting (late, not dropped). */
    let waiting = 0;
    const inflight = new Set<Promise<void>>();
    const track = (p: Promise<void>): void => {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };
    const release = (vu: Vu): void => {
      if (waiting > 0 && !this.stopping) {
        waiting--;
        run(vu);
      } else {
        free.push(vu);
      }
    };
    const run = (vu: Vu): void => {
      const i = iterationsOf.get(vu) ?? 0;
      iterationsOf.set(vu, i + 1);
      track(this.iterate(vu, s, i).finally(() => release(vu)));
    };
    const allocate = (): void => {
      allocated++;
      initializing++;
      track(
        this.startVu().then(({ vu }) => {
          initializing--;
          all.push(vu);
          release(vu);
        }),
      );
    };
    const started = Date.now();
    const total = plannedMs(s);
    let begun = 0;
    while (!this.stopping) {
      const elapsed = Date.now() - started;
      if (elapsed >= total) {
        break;
      }
      // k6 starts the first iteration at once, then one every timeUnit / rate.
      const due =
        Math.floor(arrivals(s, elapsed) + 1e-9) + (s.executor === 'constant-arrival-rate' ? 1 : 0);
      while (begun < due) {
        begun++;
        const vu = free.pop();
        if (vu) {
          run(vu);
        } else if (allocated < s.preAllocatedVUs || waiting < initializing) {
          // A preallocated VU k6 would already have: wait for one to start.
          waiting++;
          if (initializing < MAX_STARTING_VUS && allocated < s.preAllocatedVUs) {
            allocate();
          }
        } else {
          this.store.add([
            { metric: 'dropped_iterations', value: 1, tags: { ...s.tags, scenario: s.name } },
          ]);
          if (allocated < s.maxVUs && initializing < MAX_STARTING_VUS) {
            allocate();
          }
        }
      }
      await sleep(2);
    }
    // Iterations still waiting for a VU when the scenario ends never started.
    if (waiting > 0) {
      this.store.add(
        Array.from({ length: waiting }, () => ({
          metric: 'dropped_iterations',
          value: 1,
          tags: { ...s.tags, scenario: s.name },
        })),
      );
      waiting = 0;
    }
    await this.withGracefulStop(s, [...inflight], all, started + total);
  }

  private async withGracefulStop(
    s: Scenario,
    work: Array<Promise<void>>,
    vus: Vu[],
    plannedEnd: number,
  ): Promise<void> {
    const all = Promise.all(work).then(() => true);
    const graceful = s.executor === 'ramping-vus' ? s.gracefulRampDownMs : s.gracefulStopMs;
    const deadline = plannedEnd + graceful;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all,
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      const stuck = vus.filter((vu) => vu.busy);
      this.config.log(
        `WARN scenario ${s.name}: ${stuck.length} iteration(s) interrupted after the graceful stop`,
      );
      await Promise.all(stuck.map((vu) => vu.stop()));
      await all;
    }
  }

  /** Samples the VU gauges once a second while `running` resolves. */
  async sampleVus(running: Promise<unknown>): Promise<void> {
    let done = false;
    void running.finally(() => {
      done = true;
    });
    while (!done) {
      const busy = this.vus.filter((v) => v.busy).length;
      this.store.add([
        { metric: 'vus', value: busy, tags: {} },
        { metric: 'vus_max', value: this.vus.length, tags: {} },
      ] satisfies Sample[]);
      await sleep(1000);
    }
  }

  get vuCount(): number {
    return this.vus.length;
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.vus.map((vu) => vu.stop()));
    await this.http.terminate();
  }
}

export class ScriptError extends Error {}
