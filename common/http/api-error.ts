// The failure a client is meant to see, and the one error handler that turns
// anything thrown into a service's error body.
import type { Context, Env, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';

/**
 * A failure as the client sees it: an HTTP status, a code from the service's
 * own list, a message, and headers to answer with (Retry-After, Connection).
 *
 * Each service narrows `Code` to its list in its `errors.ts`
 * (`class ApiError<Code extends string = ErrorCode> extends KitApiError<Code>`).
 * The code is never inferred from the argument, so `new ApiError(400, 'typo', …)`
 * does not compile; a code the service does not choose itself (one relayed from
 * an upstream) is spelled out as `new ApiError<string>(…)`.
 */
export class ApiError<Code extends string | number = string | number> extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: NoInfer<Code>,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The `{ error: { code, message } }` body the worker and the embedder answer with. */
export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** That body in their OpenAPI documents. */
export const errorBodySchema = z
  .object({ error: z.object({ code: z.string().meta({ description: "One of the service's error codes (its errors.ts)." }), message: z.string() }) })
  .meta({ id: 'Error', description: 'Every failure has this shape.' });

/** Their answer to a request no route matches. */
export const noRoute = (c: Context) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404);

/** One of Hono's own HTTPExceptions as an ApiError with `code`, keeping its status and message. */
export const fromHttpException = <Code extends string | number>(error: HTTPException, code: Code): ApiError<Code> =>
  new ApiError<Code>(error.status as ContentfulStatusCode, code, error.message || 'request failed');

export interface ErrorHandling<Code extends string | number, E extends Env = Env> {
  /** What the client sees of a failure that is expected but not an ApiError (a domain error, an HTTPException); undefined otherwise. */
  known?: (error: Error) => ApiError<Code> | undefined;
  /** What the client sees of everything else (a bug): no details. */
  unknown: () => ApiError<Code>;
  /** The answer (seen by nobody) when the client went away before its request was read; default `unknown`, unreported. */
  clientGone?: () => ApiError<Code>;
  /** Logs an error that is not an ApiError, before it is answered; `known` says whether `known` recognised it. */
  report?: (error: Error, known: boolean, c: Context<E>) => void;
  /** The service's error envelope, with `error.headers` on the response. */
  render: (error: ApiError<Code>, c: Context<E>) => Response;
}

/** The app's `onError`: ApiErrors as they are, known failures mapped, the rest reported and answered without details. */
export function apiErrorHandler<Code extends string | number, E extends Env = Env>(handling: ErrorHandling<Code, E>): ErrorHandler<E> {
  return (error, c) => {
    if (error instanceof ApiError) return handling.render(error as ApiError<Code>, c);
    if (clientWentAway(error, c)) return handling.render((handling.clientGone ?? handling.unknown)(), c);
    const known = handling.known?.(error);
    handling.report?.(error, known !== undefined, c);
    return handling.render(known ?? handling.unknown(), c);
  };
}

/**
 * Whether reading the request failed because the client closed the connection (or the server cut it off
 * at its request timeout, common/http/node-server.ts): no bug, and no one left to answer.
 */
function clientWentAway(error: Error, c: Context): boolean {
  return c.req.raw.signal?.aborted === true || (error as { code?: unknown }).code === 'ECONNRESET';
}

/** Codes the kit itself answers with in the `{ error }` envelope: no route (noRoute), one of Hono's HTTPExceptions, a client gone, a bug. */
export const ENVELOPE_CODES = ['not_found', 'http_error', 'client_closed_request', 'internal_error'] as const;

export interface EnvelopeErrorHandling<E extends Env> extends Pick<ErrorHandling<string, E>, 'known' | 'report'> {
  /** Headers on every error answer, besides each error's own. */
  headers?: Record<string, string>;
}

/** onError for the `{ error: { code, message } }` services: their known failures, Hono's HTTPExceptions as http_error, anything else internal_error. */
export function envelopeErrorHandler<E extends Env = Env>({ known, report, headers = {} }: EnvelopeErrorHandling<E>): ErrorHandler<E> {
  return apiErrorHandler<string, E>({
    known: (error) => known?.(error) ?? (error instanceof HTTPException ? fromHttpException(error, 'http_error') : undefined),
    unknown: () => new ApiError(500, 'internal_error', 'internal error'),
    clientGone: () => new ApiError(400, 'client_closed_request', 'the client closed the connection before its request was read'),
    ...(report ? { report } : {}),
    render: (error, c) => c.json(errorBody(String(error.code), error.message), error.status, { ...headers, ...error.headers }),
  });
}
