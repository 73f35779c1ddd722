// Runs one of the project's Node services as a real child process and waits
// until it logs that it is ready, for tests that talk to it over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process logged so far, one entry per line. */
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const root = new URL('../../', import.meta.url).pathname;

/**
 * Starts `entry` (a .ts file relative to the repo root) with `env` and
 * resolves once a JSON log line with `readyMessage` and a `url` appears.
 */
export function startService(entry: string, env: Record<string, string>, readyMessage: string, timeoutMs = 60_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  // If the test process ends without stopping it (a crash, a timeout), take the service along.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  // 'close', not 'exit': only then has everything the process wrote been read (and logged).
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`${entry} not ready within ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        logs.push(line);
        try {
          const entryLog = JSON.parse(line) as { msg?: string; url?: string };
          if (entryLog.msg === readyMessage && entryLog.url) {
            clearTimeout(timer);
            resolve({ url: entryLog.url, child, logs, stop });
          }
        } catch {
          // not a JSON log line
        }
      });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before it was ready:\n${logs.join('\n')}`));
    });
  });
}
