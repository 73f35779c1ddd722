/** A tokenizer file that cannot be used. A deployment problem, not a client one. */
export class TokenizerConfigError extends Error {
  readonly status = 500;
  readonly code = 'invalid_tokenizer_config';
  override readonly name = 'TokenizerConfigError';
}
