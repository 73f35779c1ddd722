// Error codes and the error type every layer throws; the HTTP layer turns it
// into the Cloudflare envelope (app.ts). Codes marked "doc" were seen from the
// real service (shared/docs/vectorize.md §1); "local" codes are this
// emulator's own choice where the real code is unknown.
import { ApiError as KitApiError } from '../common/http/api-error.ts';

export const CODES = {
  queryDimensions: 40006, // doc
  idTooLong: 40008, // doc
  insertDimensions: 40012, // doc
  ndjsonUnparsable: 40023, // doc
  topKTooHigh: 40025, // doc
  badRequestBody: 40026, // doc: body / content-type parse error
  invalidIndexConfig: 40001, // local
  indexAlreadyExists: 40002, // local
  indexNotFound: 40004, // local
  vectorNotFound: 40005, // local (queryById with an unknown id)
  batchTooLarge: 40007, // local
  invalidMetadata: 40009, // local
  invalidNamespace: 40010, // local
  invalidValues: 40011, // local
  bodyTooLarge: 40013, // local
  invalidId: 40014, // local: an id with characters common/ids.ts refuses
  requestTimeout: 40015, // local: the request was not received in time
  headersTooLarge: 40016, // local: request line and headers over 16 KiB
  invalidFilter: 40020, // local
  metadataIndex: 40030, // local
  noRoute: 7000, // Cloudflare API: "No route for that URI"
  authentication: 10000, // Cloudflare API: "Authentication error"
  internal: 10001, // local
} as const;

export type ErrorCode = (typeof CODES)[keyof typeof CODES];

/** A failure the client sees, with one of the codes above. */
export class ApiError<Code extends number = ErrorCode> extends KitApiError<Code> {}

export const badRequest = (code: ErrorCode, message: string): ApiError => new ApiError(400, code, message);

export const indexNotFound = (name: string): ApiError =>
  new ApiError(404, CODES.indexNotFound, `vectorize.index.not_found: index "${name}" does not exist`);
