// Serving @hono/zod-openapi route definitions (createRoute) with this kit's
// request validation, so a route's OpenAPI entry and what it accepts come
// from the same schemas.
//
// Not app.openapi(): its validators refuse a Content-Type outside their own
// JSON pattern with Hono's 415 before any rule of the service runs, report
// malformed JSON as an HTTPException, read a JSON body only under a JSON
// Content-Type (the embedder reads every body as JSON) and hand a repeated
// query parameter to the schema as an array. Here each failure is thrown as
// the service's own error (its RequestRules), and the handler receives what
// was validated.
import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { ZodError, type z } from 'zod';
import { errorBodySchema } from './api-error.ts';
import { readJsonBody, type JsonBodyRules } from './json-body.ts';

export interface RequestRules extends JsonBodyRules {
  /** A query parameter given more than once. */
  repeated: (name: string) => Error;
  /** Path or query parameters that do not fit their schema. */
  invalidParameters: (error: z.ZodError) => Error;
}

type RequestOf<R extends RouteConfig> = NonNullable<R['request']>;
type PartOf<R extends RouteConfig, K extends 'params' | 'query'> = RequestOf<R> extends { [P in K]: infer S extends z.ZodType } ? z.output<S> : undefined;
type ContentOf<R extends RouteConfig> = RequestOf<R> extends { body?: { content: infer C } } ? C : never;
type JsonOf<R extends RouteConfig> = ContentOf<R> extends { 'application/json': { schema: infer S extends z.ZodType } }
  ? Exclude<keyof ContentOf<R>, 'application/json'> extends never
    ? z.output<S>
    : z.output<S> | undefined
  : undefined;

/** The validated parts of a request; `json` is undefined when the body came as another of the route's media types. */
export interface Validated<R extends RouteConfig> {
  params: PartOf<R, 'params'>;
  query: PartOf<R, 'query'>;
  json: JsonOf<R>;
}

export type ValidatedHandler<R extends RouteConfig, E extends Env> = (c: Context<E>, input: Validated<R>) => Response | Promise<Response>;

/** createRoute's `request.body` for a required JSON body of `schema`. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });

/** createRoute() for a POST to `path` that takes a JSON body of `schema`. */
export const jsonPost = <S extends z.ZodType, const C extends Omit<RouteConfig, 'method' | 'path' | 'request'>>(path: string, schema: S, config: C) =>
  createRoute({ ...config, method: 'post', path, request: { body: jsonBody(schema) } });

/** A createRoute response with a JSON body of `schema`. */
export const jsonResponse = <S extends z.ZodType>(description: string, schema: S) => ({ description, content: { 'application/json': { schema } } });

/** A failure response: the service's error body, with what the status means on this route. */
export const failureResponse = (description: string) => jsonResponse(description, errorBodySchema);

/** Whether a Content-Type header falls under a media type or range of a route (`image/*`, `multipart/form-data`). */
export function matchesMediaType(contentType: string | undefined, mediaType: string): boolean {
  if (!contentType) return false;
  if (mediaType.endsWith('/*')) return new RegExp(`^${mediaType.slice(0, -2).replace(/[.+]/g, '\\$&')}\\/[\\w.+-]+`, 'i').test(contentType);
  return contentType.split(';')[0]!.trim().toLowerCase() === mediaType;
}

/**
 * The query string against `schema`, each parameter given at most once and
 * percent-encoded UTF-8 (Hono would pass an undecodable `%FF` on as it is).
 */
export function readQuery<T extends z.ZodType>(c: Context, schema: T, rules: Pick<RequestRules, 'repeated' | 'invalidParameters'>): z.output<T> {
  const undecodable = undecodableParameter(c.req.url);
  if (undecodable !== undefined)
    throw rules.invalidParameters(new ZodError([{ code: 'custom', path: [undecodable], message: 'is not valid percent-encoded UTF-8', input: undefined }]));
  const repeated = Object.entries(c.req.queries()).find(([, values]) => values.length > 1);
  if (repeated) throw rules.repeated(repeated[0]);
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw rules.invalidParameters(parsed.error);
  return parsed.data;
}

/** The name of the first query parameter whose name or value does not decode, if any. */
function undecodableParameter(url: string): string | undefined {
  const start = url.indexOf('?');
  if (start < 0) return undefined;
  const end = url.indexOf('#', start);
  for (const pair of url.slice(start + 1, end < 0 ? undefined : end).split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    try {
      decodeURIComponent(pair.replaceAll('+', ' '));
    } catch {
      try {
        return decodeURIComponent(name.replaceAll('+', ' '));
      } catch {
        return name;
      }
    }
  }
  return undefined;
}

/**
 * Serves `route` on `app` behind its middleware, validating path parameters,
 * then the query, then a JSON body, and lists it in the app's OpenAPI
 * document (unless `hide`). Only an `application/json` body is validated;
 * other media types of the route are documentation, read by the handler.
 */
export function serveRoute<R extends RouteConfig, E extends Env>(app: OpenAPIHono<E>, route: R, rules: RequestRules, handler: ValidatedHandler<R, E>): void {
  const { middleware, hide, ...documented } = route;
  if (!hide) app.openAPIRegistry.registerPath(documented as RouteConfig);
  const { params, query, body } = (route.request ?? {}) as { params?: z.ZodType; query?: z.ZodType; body?: { content: Record<string, { schema?: unknown }> } };
  const content = body?.content ?? {};
  const json = content['application/json']?.schema as z.ZodType | undefined;
  const others = Object.keys(content).filter((type) => type !== 'application/json');

  const validated: MiddlewareHandler<E> = async (c) => {
    let path: unknown;
    if (params) {
      const parsed = params.safeParse(c.req.param());
      if (!parsed.success) throw rules.invalidParameters(parsed.error);
      path = parsed.data;
    }
    const input = {
      params: path,
      query: query ? readQuery(c, query, rules) : undefined,
      json: json && !others.some((type) => matchesMediaType(c.req.header('content-type'), type)) ? await readJsonBody(c, json, rules) : undefined,
    };
    return handler(c, input as Validated<R>);
  };
  const handlers = [...(middleware === undefined ? [] : [middleware].flat()), validated] as [MiddlewareHandler<E>];
  app.on(route.method.toUpperCase(), route.path.replaceAll(/\/{(.+?)}/g, '/:$1'), ...handlers);
}
