// Keeps the stack's services running (npm start, the chaos suite): each is a
// Node child process restarted with the same settings (port, data directory)
// when it dies, after a delay that doubles with each recent failure. A service
// that fails `maxFailures` times within `windowMs` is given up on: the
// supervisor reports it (gaveUp) and its owner stops the stack. Restarting is
// the right default for a stack on one machine: the worker serves stale
// results or 503 + Retry-After while a service is down and recovers by itself
// once it is back, so one crash costs seconds instead of the whole stack.
//
// Each service runs in a process group of its own, and the group is killed
// when the service dies: the worker's Node process runs workerd as a child,
// which would otherwise outlive a killed parent, keep the port, and make
// every restart fail. (Ctrl-C reaches the supervisor only; it stops them.)
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceSpec {
  name: string;
  /** A TypeScript entry point, run with `node --import tsx`. */
  entry: string;
  /** Added to the supervisor's own environment; the same on every restart. */
  env: Record<string, string>;
  /** Whether a line the service wrote says it is ready. */
  isReady(line: string): boolean;
}

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each further failure within the window. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** This many failures within windowMs: give up. */
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, maxFailures: 5, windowMs: 60_000 };

export type SupervisorEvent =
  | { type: 'started'; service: string; pid: number; restarts: number }
  | { type: 'ready'; service: string; pid: number; restarts: number }
  | { type: 'exited'; service: string; pid: number; code: number | null; signal: NodeJS.Signals | null; restartInMs: number; failures: number }
  | { type: 'gave-up'; service: string; code: number | null; signal: NodeJS.Signals | null; failures: number };

export interface SupervisorOptions {
  policy?: Partial<RestartPolicy>;
  /** Every line a service writes (stdout and stderr). */
  onLine?: (service: string, line: string) => void;
  onEvent?: (event: SupervisorEvent) => void;
  cwd?: string;
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess | undefined;
  /** Exit times of recent unexpected exits. */
  failures: number[];
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  firstReady: { resolve: () => void; reject: (error: Error) => void; settled: boolean };
}

/** Why a service was given up on. */
export class GaveUpError extends Error {
  override name = 'GaveUpError';
}

export class Supervisor {
  readonly #policy: RestartPolicy;
  readonly #services = new Map<string, Running>();
  #stopping = false;
  #gaveUp: ((error: GaveUpError) => void) | undefined;
  /** Rejects with a GaveUpError when a service fails too often; never resolves otherwise. */
  readonly gaveUp: Promise<never>;

  constructor(private readonly options: SupervisorOptions = {}) {
    this.#policy = { ...DEFAULT_POLICY, ...options.policy };
    this.gaveUp = new Promise<never>((_, reject) => (this.#gaveUp = reject));
    this.gaveUp.catch(() => {}); // observed by whoever awaits it
  }

  /** Starts a service; resolves when it first says it is ready, rejects if it is given up on before. */
  start(spec: ServiceSpec): Promise<void> {
    if (this.#services.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
    return new Promise((resolve, reject) => {
      const running: Running = {
        spec,
        child: undefined,
        failures: [],
        restarts: 0,
        timer: undefined,
        firstReady: { resolve, reject, settled: false },
      };
      this.#services.set(spec.name, running);
      this.#spawn(running);
    });
  }

  /** The process id of a service's current process (undefined between a death and its restart). */
  pid(service: string): number | undefined {
    const child = this.#services.get(service)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Stops restarting and ends every service (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      [...this.#services.values()].map(async (running) => {
        clearTimeout(running.timer);
        const { child } = running;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(child), graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #spawn(running: Running): void {
    const { spec } = running;
    const child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
      cwd: this.options.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group (see the top of this file)
    });
    running.child = child;
    const pid = child.pid ?? -1;
    this.options.onEvent?.({ type: 'started', service: spec.name, pid, restarts: running.restarts });
    let ready = false;
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        this.options.onLine?.(spec.name, line);
        if (!ready && spec.isReady(line)) {
          ready = true;
          this.options.onEvent?.({ type: 'ready', service: spec.name, pid, restarts: running.restarts });
          if (!running.firstReady.settled) {
            running.firstReady.settled = true;
            running.firstReady.resolve();
          }
        }
      });
    child.once('error', (error) => this.options.onLine?.(spec.name, `could not start: ${error.message}`));
    child.once('exit', (code, signal) => {
      killGroup(child);
      this.#exited(running, child, code, signal);
    });
  }

  #exited(running: Running, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping || running.child !== child) return;
    const { spec } = running;
    const now = Date.now();
    running.failures = [...running.failures.filter((t) => now - t < this.#policy.windowMs), now];
    const failures = running.failures.length;
    if (failures >= this.#policy.maxFailures) {
      this.options.onEvent?.({ type: 'gave-up', service: spec.name, code, signal, failures });
      const error = new GaveUpError(
        `${spec.name} failed ${failures} times within ${this.#policy.windowMs / 1000} s (last: ${signal ? `signal ${signal}` : `exit code ${code}`}); giving up`,
      );
      if (!running.firstReady.settled) {
        running.firstReady.settled = true;
        running.firstReady.reject(error);
      }
      this.#gaveUp?.(error);
      return;
    }
    const restartInMs = Math.min(this.#policy.maxDelayMs, this.#policy.initialDelayMs * 2 ** (failures - 1));
    this.options.onEvent?.({ type: 'exited', service: spec.name, pid: child.pid ?? -1, code, signal, restartInMs, failures });
    running.timer = setTimeout(() => {
      if (this.#stopping) return;
      running.restarts++;
      this.#spawn(running);
    }, restartInMs);
  }
}

/** Kills what is left of a service's process group (its children), ignoring a group already gone. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // nothing left
  }
}
