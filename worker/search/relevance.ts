// What is left of a ranking after the relevance options: near-duplicates of a
// better result dropped (`dedupe`), then the cutoffs (`minScore`, `within`,
// `cutoff=gap`). Each works on the whole ranked window, best first.
import { fallbackBackend } from '../../native/scoring-fallback.ts';

export interface Relevance {
  /** Keep results scoring at least this (cosine similarity). */
  minScore?: number | undefined;
  /** Keep results scoring at least the best score minus this. */
  within?: number | undefined;
  /** 'gap': keep the results before the largest drop between consecutive scores. */
  cutoff?: 'gap' | undefined;
  /** Drop a result whose cosine similarity to a better kept result is at least this. */
  dedupe?: number | undefined;
}

export interface Ranked {
  score: number;
  values?: ArrayLike<number> | undefined;
}

/**
 * Greedy, best first: a result is kept unless its vector's cosine similarity
 * to one already kept reaches `threshold`. Results without values are kept.
 */
export function dropNearDuplicates<T extends Ranked>(ranked: T[], threshold: number): T[] {
  const withValues = ranked.filter((r) => r.values !== undefined && r.values.length > 0);
  const dim = withValues[0]?.values?.length ?? 0;
  if (withValues.length < 2 || withValues.some((r) => r.values!.length !== dim)) return ranked;
  const matrix = new Float32Array(withValues.length * dim);
  withValues.forEach((r, i) => matrix.set(r.values!, i * dim));
  // Every pair's cosine, with the native module's TypeScript scoring (runtime-neutral: no Node APIs).
  const similarity = fallbackBackend.scores(matrix, matrix, dim, 'cosine', 0);
  const row = new Map(withValues.map((r, i) => [r, i]));
  const kept: number[] = [];
  return ranked.filter((r) => {
    const i = row.get(r);
    if (i === undefined) return true;
    if (kept.some((j) => similarity[i * withValues.length + j]! >= threshold)) return false;
    kept.push(i);
    return true;
  });
}

/** The results the cutoffs keep (a prefix of `ranked`), and whether they cut anything. */
export function applyCutoffs<T extends Ranked>(ranked: T[], { minScore, within, cutoff }: Relevance): { kept: T[]; cut: boolean } {
  let end = ranked.length;
  const best = ranked[0]?.score;
  const keepWhile = (keep: (score: number) => boolean) => {
    const first = ranked.slice(0, end).findIndex((r) => !keep(r.score));
    if (first >= 0) end = first;
  };
  if (minScore !== undefined) keepWhile((score) => score >= minScore);
  if (within !== undefined && best !== undefined) keepWhile((score) => score >= best - within);
  if (cutoff === 'gap' && end > 1) {
    let widest = 0;
    for (let i = 1; i < end; i++) if (ranked[i - 1]!.score - ranked[i]!.score > ranked[widest]!.score - ranked[widest + 1]!.score) widest = i - 1;
    end = widest + 1;
  }
  return { kept: ranked.slice(0, end), cut: end < ranked.length };
}
