// Metadata indexes: for each indexed property, which vectors (by label) had
// which value when they were written. Vectors written before a property index
// existed are not in it, exactly as upstream.
import { LIMITS } from '../limits.ts';
import type { Clause, IndexedValue, Metadata, MetadataIndexType, RangeBound } from '../types.ts';
import { truncateUtf8 } from './text.ts';

/** The value at a dotted path ("a.b" reads {a:{b:…}}), if it has the index's type. */
export function indexableValue(
  metadata: Metadata | undefined,
  propertyName: string,
  type: MetadataIndexType,
): IndexedValue | undefined {
  let node: unknown = metadata;
  for (const part of propertyName.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Metadata)[part];
  }
  switch (type) {
    case 'string':
      return typeof node === 'string' ? truncateUtf8(node, LIMITS.maxIndexedStringBytes) : undefined;
    case 'number':
      return typeof node === 'number' && Number.isFinite(node) ? node : undefined;
    case 'boolean':
      return typeof node === 'boolean' ? node : undefined;
  }
}

function above(v: string | number, b: RangeBound): boolean {
  return b.inclusive ? v >= b.value : v > b.value;
}
function below(v: string | number, b: RangeBound): boolean {
  return b.inclusive ? v <= b.value : v < b.value;
}

/** First position in sorted `keys` whose key satisfies `ok` (ok is monotone false→true). */
export function lowerBound<T>(keys: readonly T[], ok: (k: T) => boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ok(keys[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class PropertyIndex {
  private readonly postings = new Map<IndexedValue, Set<number>>();
  /** Distinct keys in order, rebuilt lazily after a key appears or disappears. */
  private sorted: (string | number)[] | null = null;

  constructor(
    readonly propertyName: string,
    readonly type: MetadataIndexType,
  ) {}

  add(value: IndexedValue, label: number): void {
    let set = this.postings.get(value);
    if (!set) {
      set = new Set();
      this.postings.set(value, set);
      this.sorted = null;
    }
    set.add(label);
  }

  remove(value: IndexedValue, label: number): void {
    const set = this.postings.get(value);
    if (!set) return;
    set.delete(label);
    if (set.size === 0) {
      this.postings.delete(value);
      this.sorted = null;
    }
  }

  /**
   * Labels whose value satisfies a positive clause ($eq/$in/range), or
   * undefined when the clause can also match vectors absent from the index
   * ($ne/$nin, or null in $eq/$in), which a posting list cannot enumerate.
   */
  candidates(clause: Clause): Set<number>[] | undefined {
    switch (clause.op) {
      case 'eq':
        if (clause.value === null) return undefined;
        return this.lists([clause.value]);
      case 'in':
        if (clause.values.includes(null)) return undefined;
        return this.lists(clause.values as IndexedValue[]);
      case 'range':
        return this.rangeLists(clause.lower, clause.upper);
      default:
        return undefined;
    }
  }

  private lists(values: IndexedValue[]): Set<number>[] {
    const out: Set<number>[] = [];
    for (const v of new Set(values)) {
      const set = this.postings.get(v);
      if (set) out.push(set);
    }
    return out;
  }

  private rangeLists(lower: RangeBound | undefined, upper: RangeBound | undefined): Set<number>[] {
    const kind = (lower ?? upper)!.value;
    if (this.type !== typeof kind) return [];
    const keys = this.sortedKeys();
    const start = lower ? lowerBound(keys, (k) => above(k, lower)) : 0;
    const out: Set<number>[] = [];
    for (let i = start; i < keys.length; i++) {
      const k = keys[i]!;
      if (upper && !below(k, upper)) break;
      out.push(this.postings.get(k)!);
    }
    return out;
  }

  private sortedKeys(): (string | number)[] {
    if (!this.sorted) {
      const keys = [...this.postings.keys()].filter((k): k is string | number => typeof k !== 'boolean');
      this.sorted =
        this.type === 'number'
          ? (keys as number[]).sort((a, b) => a - b)
          : (keys as string[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    return this.sorted;
  }
}
