// @ts-check
// The thread side of session-thread.ts: opens one ONNX Runtime session and
// runs it on request. Plain JavaScript, so that it starts the same way under
// tsx, vitest and plain node.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { InferenceSession, Tensor } = require('onnxruntime-node');

/** @typedef {{ type: import('onnxruntime-node').Tensor.Type, data: any, dims: readonly number[] }} WireTensor */

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @param {unknown} error */
const describe = (error) => (error instanceof Error ? error.message : String(error));

async function main() {
  /** @type {import('onnxruntime-node').InferenceSession} */
  let session;
  try {
    session = await InferenceSession.create(workerData.model, workerData.options);
  } catch (error) {
    port.postMessage({ kind: 'failed', message: describe(error) });
    return;
  }
  port.postMessage({
    kind: 'ready',
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
  });
  port.on('message', async (/** @type {any} */ message) => {
    if (message.kind === 'release') {
      await session.release();
      port.postMessage({ kind: 'released' });
      port.close();
      return;
    }
    const { id, feeds, fetches } = message;
    try {
      /** @type {Record<string, import('onnxruntime-node').Tensor>} */
      const inputs = {};
      for (const [name, t] of Object.entries(/** @type {Record<string, WireTensor>} */ (feeds))) inputs[name] = new Tensor(t.type, t.data, t.dims);
      const results = await session.run(inputs, fetches);
      /** @type {Record<string, WireTensor>} */
      const outputs = {};
      const transfer = [];
      for (const [name, tensor] of Object.entries(results)) {
        // A copy the thread owns: ORT's output buffers cannot be transferred.
        const data = /** @type {any} */ (tensor.data).slice();
        outputs[name] = { type: tensor.type, data, dims: tensor.dims };
        transfer.push(data.buffer);
      }
      port.postMessage({ kind: 'result', id, outputs }, transfer);
    } catch (error) {
      port.postMessage({ kind: 'result', id, error: describe(error) });
    }
  });
}

void main();
