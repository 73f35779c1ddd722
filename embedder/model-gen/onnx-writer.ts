/**
 * Serialises a `GraphSpec` as an ONNX ModelProto. The graph structure is
 * encoded with protobufjs; the initializers are appended by hand (a GraphProto
 * field 5 per tensor, raw_data last) so their bytes stream straight from the
 * generator to the file and a 350 MB model never sits in memory.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { collectBytes } from '../../common/bytes.ts';
import { fieldHeader } from '../onnx/protobuf-wire.ts';
import { AttributeType, FieldNumber, GraphProto, ModelProto, TensorProto } from '../onnx/onnx-proto.ts';
import type { AttributeValue, GraphSpec, NodeSpec, ValueInfoSpec } from './graph-builder.ts';
import type { ByteSink, TensorSource } from './tensor-source.ts';

export interface ModelSpec {
  readonly graph: GraphSpec;
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString: string;
  readonly metadata: Readonly<Record<string, string>>;
}

function collect(source: TensorSource): Uint8Array {
  return collectBytes(source.byteLength, (sink) => source.writeTo(sink));
}

function valueInfo(spec: ValueInfoSpec): object {
  return {
    name: spec.name,
    type: {
      tensor_type: {
        elem_type: spec.elemType,
        shape: { dim: spec.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): object {
  switch (value.type) {
    case 'int':
      return { name, type: AttributeType.INT, i: value.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...value.value] };
    case 'tensor':
      return {
        name,
        type: AttributeType.TENSOR,
        t: { dims: [...value.value.dims], data_type: value.value.dataType, raw_data: collect(value.value) },
      };
  }
}

function node(spec: NodeSpec): object {
  return {
    input: [...spec.inputs],
    output: [...spec.outputs],
    name: spec.name,
    op_type: spec.opType,
    attribute: Object.entries(spec.attributes).map(([name, value]) => attribute(name, value)),
  };
}

interface EncodedInitializer {
  /** GraphProto field header + TensorProto fields before raw_data + raw_data header. */
  readonly prefix: Uint8Array;
  readonly source: TensorSource;
}

function encodeInitializer(name: string, source: TensorSource): EncodedInitializer {
  const fields = TensorProto.encode(
    TensorProto.fromObject({ dims: [...source.dims], data_type: source.dataType, name }),
  ).finish();
  const rawHeader = fieldHeader(FieldNumber.tensorRawData, source.byteLength);
  const tensorLength = fields.length + rawHeader.length + source.byteLength;
  const graphField = fieldHeader(FieldNumber.graphInitializer, tensorLength);
  const prefix = new Uint8Array(graphField.length + fields.length + rawHeader.length);
  prefix.set(graphField);
  prefix.set(fields, graphField.length);
  prefix.set(rawHeader, graphField.length + fields.length);
  return { prefix, source };
}

/** The model as an ordered list of byte strings and streamed tensors. */
type Piece = Uint8Array | TensorSource;

function plan(model: ModelSpec): Piece[] {
  const { graph } = model;
  const head = ModelProto.encode(
    ModelProto.fromObject({
      ir_version: model.irVersion,
      producer_name: model.producerName,
      producer_version: model.producerVersion,
      doc_string: model.docString,
      opset_import: [{ domain: '', version: model.opsetVersion }],
      metadata_props: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    }),
  ).finish();
  const graphBody = GraphProto.encode(
    GraphProto.fromObject({
      node: graph.nodes.map(node),
      name: graph.name,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    }),
  ).finish();
  const initializers = graph.initializers.map((i) => encodeInitializer(i.name, i.source));
  const graphLength = initializers.reduce((n, i) => n + i.prefix.length + i.source.byteLength, graphBody.length);
  const pieces: Piece[] = [head, fieldHeader(FieldNumber.modelGraph, graphLength), graphBody];
  for (const init of initializers) pieces.push(init.prefix, init.source);
  return pieces;
}

function pieceLength(piece: Piece): number {
  return piece instanceof Uint8Array ? piece.length : piece.byteLength;
}

/** Total size in bytes of the serialised model (no tensor data is generated). */
export function modelByteLength(model: ModelSpec): number {
  return plan(model).reduce((n, piece) => n + pieceLength(piece), 0);
}

/** Writes the serialised model to `sink`, in order. */
export function serializeModel(model: ModelSpec, sink: ByteSink): void {
  for (const piece of plan(model)) {
    if (piece instanceof Uint8Array) {
      sink(piece);
      continue;
    }
    let written = 0;
    piece.writeTo((bytes) => {
      written += bytes.length;
      sink(bytes);
    });
    if (written !== piece.byteLength) throw new Error('tensor source wrote the wrong number of bytes');
  }
}

/** The serialised model in memory (for small models and tests). */
export function encodeModel(model: ModelSpec): Uint8Array {
  return collectBytes(modelByteLength(model), (sink) => serializeModel(model, sink));
}

/**
 * Writes the model to `path` (through a temporary file renamed at the end, so
 * a failed run leaves no truncated model behind). Returns the size in bytes.
 */
export function writeModelFile(path: string, model: ModelSpec): number {
  const temporary = `${path}.partial`;
  const fd = openSync(temporary, 'w');
  let size = 0;
  // Small pieces (headers, node lists) are gathered into one buffer per write.
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (pendingBytes === 0) return;
    const joined = Buffer.concat(pending, pendingBytes);
    writeAll(fd, joined);
    pending.length = 0;
    pendingBytes = 0;
  };
  try {
    serializeModel(model, (bytes) => {
      size += bytes.length;
      if (bytes.length >= 1 << 16) {
        flush();
        writeAll(fd, bytes);
      } else {
        pending.push(Uint8Array.from(bytes));
        pendingBytes += bytes.length;
        if (pendingBytes >= 1 << 20) flush();
      }
    });
    flush();
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  return size;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) {
    offset += writeSync(fd, bytes, offset, bytes.length - offset);
  }
}
