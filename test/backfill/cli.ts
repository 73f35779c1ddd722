// The backfill CLI as a real child process, through its bin entry.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { eventually } from '../support/timing.ts';

const BIN = new URL('../../backfill/bin.mjs', import.meta.url).pathname;

export interface CliRun {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once all output is read. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Writes to stdin (the manifest for source "-"). */
  write(text: string): void;
  endInput(): void;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
}

export function startCli(args: string[], options: CliOptions = {}): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    // A plain log line often, so that a test sees progress; no terminal, so no bar.
    env: { ...process.env, BACKFILL_LOG_INTERVAL_MS: '500', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
  child.stdin!.on('error', () => {}); // the CLI may exit before reading all of it
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      process.off('exit', reap);
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    write: (text) => void child.stdin!.write(text),
    endInput: () => void child.stdin!.end(),
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], options: CliOptions & { input?: string } = {}): Promise<CliResult> {
  const run = startCli(args, options);
  if (options.input !== undefined) run.write(options.input);
  run.endInput();
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

export interface Summary {
  indexed: number;
  skipped: number;
  failed: number;
  ignored: number;
}

/** The counts of the summary line the CLI prints last on stdout. */
export function summaryOf(stdout: string): Summary {
  const match = /indexed (\d+), skipped (\d+) \(already indexed\), failed (\d+)(?: \(see [^)]*\))?, ignored (\d+)/.exec(stdout);
  if (!match) throw new Error(`no summary in:\n${stdout}`);
  const [indexed, skipped, failed, ignored] = match.slice(1).map(Number) as [number, number, number, number];
  return { indexed, skipped, failed, ignored };
}

/** The checkpoint's complete entry lines (a torn last line and the header left out). */
export function checkpointEntries(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((line) => line && !line.startsWith('#'));
}

export const waitForCheckpoint = (path: string, entries: number) =>
  eventually(async () => (checkpointEntries(path).length >= entries ? true : undefined), `${entries} checkpoint entries in ${path}`, { intervalMs: 5, timeoutMs: 60_000 });

export function readJsonLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}
