export { loadClipTokenizer, contextLengthFromModelConfig } from './load-clip-tokenizer.ts';
export type { LoadClipTokenizerOptions } from './load-clip-tokenizer.ts';
export { ClipTokenizer } from './clip-tokenizer.ts';
export type { ClipTokenizerOptions, TokenizeOptions, TokenizedBatch } from './clip-tokenizer.ts';
export { parseTokenizerJson } from './tokenizer-json.ts';
export type { ClipVocabulary, SpecialToken } from './tokenizer-json.ts';
export { cleanClipText } from './clean-text.ts';
export { TokenizerConfigError } from './errors.ts';
