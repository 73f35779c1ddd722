// An ONNX Runtime session on a thread of its own. onnxruntime-node runs a
// model synchronously on the thread that calls run() (its promise only defers
// the call), so a session on the main thread would stop the event loop for a
// whole inference: no requests read, no images decoded, no health checks
// answered meanwhile. On its own thread, the next batch is received and
// preprocessed while this one runs.
import { Worker } from 'node:worker_threads';
import { Tensor, type InferenceSession } from 'onnxruntime-node';

/** What the towers use of a session; an InferenceSession is one too. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  run(feeds: Record<string, Tensor>, fetches: string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

type TensorData = Float32Array | Int32Array | BigInt64Array;
interface WireTensor {
  type: Tensor.Type;
  data: TensorData;
  dims: readonly number[];
}

type Ready = Pick<ModelSession, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>;
type FromThread =
  | ({ kind: 'ready' } & Ready)
  | { kind: 'failed'; message: string }
  | { kind: 'result'; id: number; outputs?: Record<string, WireTensor>; error?: string }
  | { kind: 'released' };

const THREAD_ENTRY = new URL('./session-thread-entry.cjs', import.meta.url);

export class SessionThread implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  private readonly pending = new Map<number, { resolve(outputs: Record<string, Tensor>): void; reject(error: Error): void }>();
  private nextId = 0;
  /** Set once the thread is gone; every later run fails with it. */
  private gone: Error | null = null;
  private released: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    ready: Ready,
  ) {
    ({ inputNames: this.inputNames, outputNames: this.outputNames, inputMetadata: this.inputMetadata, outputMetadata: this.outputMetadata } = ready);
    worker.on('message', (message: FromThread) => {
      if (message.kind !== 'result') return;
      const call = this.pending.get(message.id);
      if (!call) return;
      this.settled(message.id);
      if (message.error !== undefined || !message.outputs) call.reject(new Error(message.error ?? 'no outputs'));
      else call.resolve(Object.fromEntries(Object.entries(message.outputs).map(([name, t]) => [name, new Tensor(t.type, t.data, t.dims)])));
    });
    const fail = (error: Error) => {
      this.gone ??= error;
      for (const [id, call] of this.pending) {
        this.settled(id);
        call.reject(this.gone);
      }
    };
    worker.on('error', (error) => fail(new Error(`the ONNX Runtime session thread failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`the ONNX Runtime session thread exited (code ${code})`)));
    worker.unref();
  }

  /**
   * Opens `model` with `options` on a new thread: a path, or the bytes of a rewritten graph, which are
   * handed over rather than copied (a model is hundreds of megabytes; the caller's buffer is detached).
   */
  static open(model: string | Uint8Array, options: InferenceSession.SessionOptions): Promise<SessionThread> {
    return new Promise((resolve, reject) => {
      const transferList = typeof model === 'string' ? [] : [model.buffer as ArrayBuffer];
      const worker = new Worker(THREAD_ENTRY, { workerData: { model, options }, transferList });
      const early = (error: Error) => reject(error);
      const exited = (code: number) => reject(new Error(`the ONNX Runtime session thread exited (code ${code}) before the model was open`));
      worker.once('error', early);
      worker.once('exit', exited);
      worker.once('message', (message: FromThread) => {
        worker.off('error', early);
        worker.off('exit', exited);
        if (message.kind === 'ready') return resolve(new SessionThread(worker, message));
        void worker.terminate();
        reject(new Error(message.kind === 'failed' ? message.message : `unexpected ${message.kind} from the session thread`));
      });
    });
  }

  run(feeds: Record<string, Tensor>, fetches: string[]): Promise<Record<string, Tensor>> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      // A copy of just this view, handed over: the caller's buffer stays its own.
      const data = (tensor.data as TensorData).slice();
      wire[name] = { type: tensor.type, data, dims: tensor.dims };
      transfer.push(data.buffer as ArrayBuffer);
    }
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref(); // a run in flight keeps the process alive
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'run', id, feeds: wire, fetches }, transfer);
    });
  }

  /** Releases the session and ends the thread; safe to call twice. */
  release(): Promise<void> {
    this.released ??= (async () => {
      if (!this.gone) {
        const done = new Promise<void>((resolve) => {
          this.worker.on('message', (message: FromThread) => message.kind === 'released' && resolve());
          this.worker.once('exit', () => resolve());
        });
        this.worker.ref();
        this.worker.postMessage({ kind: 'release' });
        await done;
      }
      await this.worker.terminate();
      this.gone ??= new Error('the ONNX Runtime session thread was released');
    })();
    return this.released;
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}
