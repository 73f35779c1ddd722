// How a family turns cosine similarities into probabilities. CLIP was trained with a softmax over the
// batch: a label's probability is relative to the other labels, at the learned temperature `scale`.
// SigLIP was trained with a sigmoid per pair: each (text, image) pair has a probability of its own,
// sigmoid(scale · cos + bias), whatever else is asked. A SigLIP whose files hold neither learned value
// still embeds and searches (cosines need neither); its scoring is unavailable, and says why.

export type Scoring =
  | { readonly kind: 'softmax'; readonly scale: number }
  | { readonly kind: 'sigmoid'; readonly scale: number; readonly bias: number }
  | { readonly kind: 'unavailable'; readonly reason: string };

export type AvailableScoring = Exclude<Scoring, { kind: 'unavailable' }>;

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exp = logits.map((l) => Math.exp(l - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** One probability per label, from the cosine of each label's text with one image. */
export function labelProbabilities(scoring: AvailableScoring, cosines: readonly number[]): number[] {
  if (scoring.kind === 'softmax') return softmax(cosines.map((s) => s * scoring.scale));
  return cosines.map((s) => sigmoid(s * scoring.scale + scoring.bias));
}

/** The probability that one text and one image match, for families scored per pair; null for softmax ones. */
export function pairProbability(scoring: AvailableScoring, cosine: number): number | null {
  return scoring.kind === 'sigmoid' ? sigmoid(cosine * scoring.scale + scoring.bias) : null;
}
