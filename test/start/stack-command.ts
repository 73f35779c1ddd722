// `npm start` as a user runs it (its module, scripts/start.ts, on free ports,
// with a generated tiny model and a data directory of its own): its output
// as plain lines, waits on them, and the pids it reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { generate } from '../../embedder/model-gen/generate.ts';
import { temporaryDirectory } from '../support/files.ts';
import { freePort } from '../support/ports.ts';
import { eventually } from '../support/timing.ts';

const root = new URL('../../', import.meta.url).pathname;

export const ADMIN_TOKEN = 'start-test-admin-token';

export interface StackCommand {
  child: ChildProcess;
  /** The worker's base URL. */
  url: string;
  /** The embedder's base URL. */
  embedderUrl: string;
  /** Every line printed so far, colours removed. */
  lines: string[];
  /** Resolves with the first line (from `from` on) that matches. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<{ line: string; at: number; index: number }>;
  /** The pid the stack last reported for a service ("[embedder] started (pid N)" or "restarted (pid N, ...)"). */
  pid(service: string): number;
  /** Resolves with the exit code (or signal) once the command has ended. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Starts `npm start`'s module with a fresh tiny model and data directory; `env` overrides (MODEL_DIR: '' serves the default, the demo model). */
export async function startStackCommand(env: Record<string, string> = {}): Promise<StackCommand> {
  const dir = temporaryDirectory('start-test-', 'test');
  generate({ arch: 'tiny', outDir: dir, seed: 5, layouts: ['hf'] });
  const ports = { embedder: await freePort(), index: await freePort(), worker: await freePort() };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      MODEL_DIR: join(dir, 'tiny-hf'),
      INDEX_DATA_DIR: join(dir, 'index'),
      WORKER_PERSIST_DIR: join(dir, 'worker'),
      EMBEDDER_PORT: String(ports.embedder),
      INDEX_PORT: String(ports.index),
      WORKER_PORT: String(ports.worker),
      EMBEDDER_TOKEN: 'start-test-embedder-token',
      ADMIN_TOKEN,
      EMBEDDER_THREADS: '1',
      EMBEDDER_BATCH_WAIT_MS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('exit', reap);
      resolve(signal ?? code);
    }),
  );
  // A test that fails half-way still stops the stack the way Ctrl-C does (its services run in
  // process groups of their own, which a killed npm start would leave behind).
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(reap, 20_000);
    await exited;
    clearTimeout(timer);
  });
  const lines: { line: string; at: number }[] = [];
  const plain: string[] = [];
  let partial = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const)
    child[name]!.on('data', (chunk: Buffer) => {
      const text = partial[name] + chunk.toString();
      const parts = text.split('\n');
      partial = { ...partial, [name]: parts.pop()! };
      for (const part of parts) {
        const line = part.replace(/\x1b\[[0-9;]*m/g, '');
        lines.push({ line, at: performance.now() });
        plain.push(line);
      }
    });
  const waitFor: StackCommand['waitFor'] = (pattern, from = 0, timeoutMs = 60_000) =>
    eventually(
      async () => {
        const index = lines.findIndex((l, i) => i >= from && pattern.test(l.line));
        if (index >= 0) return { ...lines[index]!, index };
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm start ended before printing ${pattern}:\n${plain.join('\n')}`);
        return undefined;
      },
      `npm start to print ${pattern}`,
      { timeoutMs, intervalMs: 20 },
    );
  const pid = (service: string) => {
    const reported = plain.flatMap((l) => {
      const match = new RegExp(`^\\[${service}\\] (?:started|restarted) \\(pid (\\d+)`).exec(l);
      return match ? [Number(match[1])] : [];
    });
    if (!reported.length) throw new Error(`npm start reported no pid for ${service}`);
    return reported.at(-1)!;
  };
  return { child, url: `http://127.0.0.1:${ports.worker}`, embedderUrl: `http://127.0.0.1:${ports.embedder}`, lines: plain, waitFor, pid, exited };
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
