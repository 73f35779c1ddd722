// Calls to the worker's admin API, shared by the worker and queue targets:
// a network failure or timeout is transient (retried), named after the call.
import { TransientError, networkMessage } from '../failures.ts';

export type WorkerRequest = (what: string, path: string, init?: RequestInit) => Promise<Response>;

export const workerRequester =
  (base: string, timeoutMs: number): WorkerRequest =>
  async (what, path, init = {}) => {
    try {
      return await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new TransientError(`worker ${base}: ${what}: ${networkMessage(error)}`);
    }
  };
