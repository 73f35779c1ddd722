// Metadata filter: validation into clauses, and evaluation against the values
// a vector had indexed when it was written. Semantics the upstream docs leave
// open (shared/docs/vectorize.md §2, "unconfirmed") are decided here as
// MongoDB does: a property that is absent (or not indexed) behaves as null, so
// `$ne: x` and `$nin: [x]` match vectors without it and `$eq: null` matches
// only those; ranges never match an absent property or a value of another type.
import { badRequest, CODES } from '../errors.ts';
import { LIMITS, utf8Bytes } from '../limits.ts';
import type { Clause, CompiledFilter, IndexedValue, RangeBound } from '../types.ts';
import { truncateUtf8 } from './text.ts';

const LOWER = new Set(['$gt', '$gte']);
const UPPER = new Set(['$lt', '$lte']);
const OPERATORS = new Set(['$eq', '$ne', '$in', '$nin', '$lt', '$lte', '$gt', '$gte']);

const invalid = (message: string) => badRequest(CODES.invalidFilter, `invalid filter: ${message}`);

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Filter strings compare by the same 64-byte prefix the index keeps. */
function scalar(value: unknown, where: string, allowNull: boolean): IndexedValue | null {
  if (value === null && allowNull) return null;
  if (typeof value === 'string') return truncateUtf8(value, LIMITS.maxIndexedStringBytes);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw invalid(`${where} must be a string, number, boolean${allowNull ? ' or null' : ''} (got ${JSON.stringify(value)})`);
}

function bound(value: unknown, where: string, inclusive: boolean): RangeBound {
  if (typeof value === 'string') return { value: truncateUtf8(value, LIMITS.maxIndexedStringBytes), inclusive };
  if (typeof value === 'number' && Number.isFinite(value)) return { value, inclusive };
  throw invalid(`${where} must be a string or a number (got ${JSON.stringify(value)})`);
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > LIMITS.maxFilterKeyChars)
    throw invalid(`keys must be 1 to ${LIMITS.maxFilterKeyChars} characters`);
  if (key.includes('"')) throw invalid(`key ${JSON.stringify(key)} must not contain '"'`);
  if (key.startsWith('$')) throw invalid(`key ${JSON.stringify(key)} must not start with '$'`);
}

function clauseFor(key: string, spec: unknown): Clause {
  if (!isPlainObject(spec)) {
    if (Array.isArray(spec)) throw invalid(`"${key}": use {"$in": [...]} to match one of several values`);
    return { key, op: 'eq', value: scalar(spec, `"${key}"`, true) };
  }
  const ops = Object.keys(spec);
  if (ops.length === 0) throw invalid(`"${key}": empty operator object`);
  for (const op of ops) if (!OPERATORS.has(op)) throw invalid(`"${key}": unknown operator ${JSON.stringify(op)}`);

  if (ops.length === 1) {
    const op = ops[0]!;
    const arg = spec[op];
    const where = `"${key}".${op}`;
    switch (op) {
      case '$eq':
      case '$ne':
        return { key, op: op === '$eq' ? 'eq' : 'ne', value: scalar(arg, where, true) };
      case '$in':
      case '$nin':
        if (!Array.isArray(arg) || arg.length === 0) throw invalid(`${where} must be a non-empty array`);
        return { key, op: op === '$in' ? 'in' : 'nin', values: arg.map((v, i) => scalar(v, `${where}[${i}]`, true)) };
      default: {
        const b = bound(arg, where, op.endsWith('e'));
        return LOWER.has(op) ? { key, op: 'range', lower: b } : { key, op: 'range', upper: b };
      }
    }
  }
  const lower = ops.filter((op) => LOWER.has(op));
  const upper = ops.filter((op) => UPPER.has(op));
  if (ops.length !== 2 || lower.length !== 1 || upper.length !== 1)
    throw invalid(`"${key}": only one lower bound ($gt/$gte) and one upper bound ($lt/$lte) may be combined`);
  const lo = lower[0]!;
  const up = upper[0]!;
  const clause: Clause = {
    key,
    op: 'range',
    lower: bound(spec[lo], `"${key}".${lo}`, lo === '$gte'),
    upper: bound(spec[up], `"${key}".${up}`, up === '$lte'),
  };
  if (typeof clause.lower!.value !== typeof clause.upper!.value)
    throw invalid(`"${key}": range bounds must both be strings or both be numbers`);
  return clause;
}

/** Validates a filter as the query endpoint receives it; throws ApiError 400. */
export function compileFilter(raw: unknown): CompiledFilter {
  if (!isPlainObject(raw)) throw invalid('must be a JSON object');
  const keys = Object.keys(raw);
  if (keys.length === 0) throw invalid('must not be empty');
  const size = utf8Bytes(JSON.stringify(raw));
  if (size >= LIMITS.maxFilterBytes)
    throw invalid(`compact JSON must be under ${LIMITS.maxFilterBytes} bytes (got ${size})`);
  return keys.map((key) => {
    checkKey(key);
    return clauseFor(key, raw[key]);
  });
}

const equals = (want: IndexedValue | null, have: IndexedValue | undefined): boolean =>
  want === null ? have === undefined : have === want;

function inRange(clause: Extract<Clause, { op: 'range' }>, have: IndexedValue | undefined): boolean {
  const { lower, upper } = clause;
  const type = (lower ?? upper)!.value;
  if (have === undefined || typeof have !== typeof type) return false;
  if (lower && (lower.inclusive ? have < lower.value : have <= lower.value)) return false;
  if (upper && (upper.inclusive ? have > upper.value : have >= upper.value)) return false;
  return true;
}

export function matchesClause(clause: Clause, have: IndexedValue | undefined): boolean {
  switch (clause.op) {
    case 'eq':
      return equals(clause.value, have);
    case 'ne':
      return !equals(clause.value, have);
    case 'in':
      return clause.values.some((v) => equals(v, have));
    case 'nin':
      return !clause.values.some((v) => equals(v, have));
    case 'range':
      return inRange(clause, have);
  }
}

/** AND of all clauses over the values the vector had indexed. */
export function matchesFilter(filter: CompiledFilter, indexed: ReadonlyMap<string, IndexedValue> | undefined): boolean {
  for (const clause of filter) if (!matchesClause(clause, indexed?.get(clause.key))) return false;
  return true;
}
