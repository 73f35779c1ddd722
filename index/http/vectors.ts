// NDJSON vector uploads: one {"id","values","metadata"?,"namespace"?} per
// line. Checked by hand rather than with zod — a 5,000 × 1,536 upload is
// 7.7 M numbers and this is the hot path of bulk loading.
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../common/http/json-body.ts';
import { idProblem } from '../../common/ids.ts';
import { isPlainObject } from '../engine/filter.ts';
import { badRequest, CODES } from '../errors.ts';
import { LIMITS, utf8Bytes } from '../limits.ts';
import type { Metadata, VectorHeader } from '../types.ts';

export interface ParsedUpload {
  vectors: VectorHeader[];
  /** Row-major float32, `vectors.length × dimensions`. */
  values: Float32Array;
}

class Unparsable extends Error {}

/** Keys are addressed by dotted paths in filters, so they cannot hold '.', '"' or a leading '$'. */
function checkMetadataKeys(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkMetadataKeys(v, `${where}[${i}]`));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key.length === 0 || key.includes('.') || key.includes('"') || key.startsWith('$'))
      throw badRequest(
        CODES.invalidMetadata,
        `${where}: metadata key ${JSON.stringify(key)} must be non-empty and must not contain '.' or '"' or start with '$'`,
      );
    checkMetadataKeys(v, `${where}.${key}`);
  }
}

function parseLine(line: string, lineNo: number, dimensions: number): { header: VectorHeader; values: unknown[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new Unparsable(`line ${lineNo}: invalid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(raw)) throw new Unparsable(`line ${lineNo}: expected a JSON object`);
  const { id, values, metadata, namespace } = raw;
  if (typeof id !== 'string') throw new Unparsable(`line ${lineNo}: "id" must be a string`);
  if (!Array.isArray(values)) throw new Unparsable(`line ${lineNo}: "values" must be an array of numbers`);
  const where = `line ${lineNo} (id ${JSON.stringify(id.slice(0, 80))})`;

  const idBytes = utf8Bytes(id);
  if (idBytes === 0 || idBytes > LIMITS.maxIdBytes)
    throw badRequest(CODES.idTooLong, `${where}: vector id must be 1 to ${LIMITS.maxIdBytes} bytes (got ${idBytes})`);
  const problem = idProblem(id);
  if (problem) throw badRequest(CODES.invalidId, `${where}: vector id ${problem}`);
  if (values.length !== dimensions)
    throw badRequest(
      CODES.insertDimensions,
      `${where}: vector has ${values.length} dimensions, but the index expects ${dimensions}`,
    );

  const header: VectorHeader = { id };
  if (namespace !== undefined && namespace !== null) {
    if (typeof namespace !== 'string') throw badRequest(CODES.invalidNamespace, `${where}: "namespace" must be a string`);
    const bytes = utf8Bytes(namespace);
    if (bytes === 0 || bytes > LIMITS.maxNamespaceBytes)
      throw badRequest(CODES.invalidNamespace, `${where}: namespace must be 1 to ${LIMITS.maxNamespaceBytes} bytes`);
    header.namespace = namespace;
  }
  if (metadata !== undefined && metadata !== null) {
    if (!isPlainObject(metadata)) throw badRequest(CODES.invalidMetadata, `${where}: "metadata" must be a JSON object`);
    // Measured without recursion: JSON.stringify below would overflow the stack on a deep enough value.
    if (nestedDeeperThan(metadata, MAX_JSON_DEPTH))
      throw badRequest(CODES.invalidMetadata, `${where}: metadata is nested more than ${MAX_JSON_DEPTH} levels deep`);
    const bytes = utf8Bytes(JSON.stringify(metadata));
    if (bytes > LIMITS.maxMetadataBytes)
      throw badRequest(CODES.invalidMetadata, `${where}: metadata is ${bytes} bytes; the limit is ${LIMITS.maxMetadataBytes}`);
    checkMetadataKeys(metadata, `${where} metadata`);
    header.metadata = metadata as Metadata;
  }
  return { header, values };
}

/**
 * Parses and validates an upload. With `discard`, lines that are not JSON
 * objects with a string id and a values array are skipped; every other
 * problem (limits, dimensions) fails the whole request, which is then not
 * applied at all.
 */
export function parseVectorUpload(text: string, dimensions: number, behavior: 'error' | 'discard'): ParsedUpload {
  const lines = text.split('\n');
  const vectors: VectorHeader[] = [];
  const rows: unknown[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    try {
      const { header, values } = parseLine(line, i + 1, dimensions);
      vectors.push(header);
      rows.push(values);
    } catch (error) {
      if (!(error instanceof Unparsable)) throw error;
      if (behavior === 'error') throw badRequest(CODES.ndjsonUnparsable, `unparsable vector upload: ${error.message}`);
    }
    if (vectors.length > LIMITS.maxBatch)
      throw badRequest(CODES.batchTooLarge, `at most ${LIMITS.maxBatch} vectors per request`);
  }
  if (vectors.length === 0) throw badRequest(CODES.ndjsonUnparsable, 'the upload contains no vectors');

  const values = new Float32Array(vectors.length * dimensions);
  rows.forEach((row, r) => {
    for (let j = 0; j < dimensions; j++) {
      const v = row[j];
      const f = Math.fround(v as number);
      if (typeof v !== 'number' || !Number.isFinite(f))
        throw badRequest(
          CODES.invalidValues,
          `vector ${JSON.stringify(vectors[r]!.id)}: values[${j}] must be a finite float32 number (got ${JSON.stringify(v)})`,
        );
      values[r * dimensions + j] = f;
    }
  });
  return { vectors, values };
}
