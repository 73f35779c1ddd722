// The HTTP kit the worker, the embedder and the index share (common/http/),
// in workerd, the strictest of the runtimes it serves: errors and their
// envelope, JSON bodies, body limits, bearer tokens, and routes served from
// their OpenAPI definitions.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, apiErrorHandler, errorBody, fromHttpException } from '../../common/http/api-error.ts';
import { bearerAuth, timingSafeEqualStrings } from '../../common/http/bearer.ts';
import { limitBody } from '../../common/http/body-limit.ts';
import { describeIssues, MAX_JSON_DEPTH, readJsonBody, type JsonBodyRules } from '../../common/http/json-body.ts';
import { matchesMediaType, serveRoute, type RequestRules } from '../../common/http/routes.ts';

class DomainError extends Error {}

/** An app with the kit's error handler: ApiErrors as `{ error: { code, message } }`, every unexpected error noted. */
function appWithErrors() {
  const reported: { message: string; known: boolean }[] = [];
  const app = new OpenAPIHono();
  app.onError(
    apiErrorHandler<string>({
      known: (error) => {
        if (error instanceof DomainError) return new ApiError(409, 'conflict', error.message);
        if (error instanceof HTTPException) return fromHttpException(error, 'http_error');
        return undefined;
      },
      unknown: () => new ApiError(500, 'internal_error', 'internal error'),
      report: (error, known) => reported.push({ message: error.message, known }),
      render: (error, c) => {
        for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
        return c.json(errorBody(String(error.code), error.message), error.status);
      },
    }),
  );
  return { app, reported };
}

const answer = async (response: Response) => ({ status: response.status, body: (await response.json()) as unknown });

describe('apiErrorHandler', () => {
  it('answers an ApiError with its status, code, message and headers, in the service\'s envelope', async () => {
    const { app, reported } = appWithErrors();
    app.get('/', () => {
      throw new ApiError(429, 'rate_limited', 'slow down', { 'retry-after': '7' });
    });
    const response = await app.request('/');
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await answer(response)).toEqual({ status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } } });
    expect(reported).toEqual([]);
  });

  it('maps known failures, and answers anything else without its details', async () => {
    const { app, reported } = appWithErrors();
    app.get('/domain', () => {
      throw new DomainError('already there');
    });
    app.get('/hono', () => {
      throw new HTTPException(418, { message: 'teapot' });
    });
    app.get('/bug', () => {
      throw new TypeError('x is undefined at line 3');
    });
    expect(await answer(await app.request('/domain'))).toEqual({ status: 409, body: { error: { code: 'conflict', message: 'already there' } } });
    expect(await answer(await app.request('/hono'))).toEqual({ status: 418, body: { error: { code: 'http_error', message: 'teapot' } } });
    expect(await answer(await app.request('/bug'))).toEqual({ status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } });
    expect(reported).toEqual([
      { message: 'already there', known: true },
      { message: 'teapot', known: true },
      { message: 'x is undefined at line 3', known: false },
    ]);
  });
});

describe('readJsonBody', () => {
  const strict: JsonBodyRules = {
    mediaType: { accepts: /^application\/json\b/i, refuse: () => new ApiError(415, 'unsupported_media_type', 'send JSON') },
    malformed: (cause) => new ApiError(400, 'invalid_json', `not JSON (${cause.name})`),
    invalid: (error) => new ApiError(400, 'invalid', describeIssues(error)),
  };
  const lenient: JsonBodyRules = { malformed: strict.malformed, invalid: strict.invalid };
  const schema = z.object({ n: z.number().int().max(10), tag: z.string().default('none') });

  function app(rules: JsonBodyRules) {
    const { app } = appWithErrors();
    app.post('/', async (c) => c.json(await readJsonBody(c, schema, rules)));
    return app;
  }
  const post = (rules: JsonBodyRules, body: string, contentType?: string) =>
    app(rules).request('/', { method: 'POST', body, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });

  it('returns the parsed body, defaults applied', async () => {
    expect(await answer(await post(strict, '{"n":3}', 'application/json; charset=utf-8'))).toEqual({ status: 200, body: { n: 3, tag: 'none' } });
  });

  it('refuses other content types when the service asks for JSON, and reads any body when it does not', async () => {
    expect((await answer(await post(strict, '{"n":3}', 'text/plain'))).status).toBe(415);
    expect((await answer(await post(strict, '{"n":3}'))).status).toBe(415);
    expect(await answer(await post(lenient, '{"n":3}', 'text/plain'))).toEqual({ status: 200, body: { n: 3, tag: 'none' } });
  });

  it('answers malformed JSON and schema failures with the service\'s errors', async () => {
    expect(await answer(await post(strict, '{"n":', 'application/json'))).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: 'not JSON (SyntaxError)' } },
    });
    expect(await answer(await post(strict, '{"n":11}', 'application/json'))).toEqual({
      status: 400,
      body: { error: { code: 'invalid', message: 'n: Too big: expected number to be <=10' } },
    });
  });

  it('refuses bytes that are not UTF-8 instead of replacing them, and JSON nested past MAX_JSON_DEPTH', async () => {
    const named: JsonBodyRules = { ...lenient, malformed: (cause) => new ApiError(400, 'invalid_json', `${cause.name}: ${cause.message}`) };
    const invalidUtf8 = new Uint8Array([...new TextEncoder().encode('{"n":1,"tag":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const { app: served } = appWithErrors();
    served.post('/', async (c) => c.json(await readJsonBody(c, schema, named)));
    served.post('/any', async (c) => c.json({ read: (await readJsonBody(c, z.unknown(), named)) !== undefined }));
    expect(await answer(await served.request('/', { method: 'POST', body: invalidUtf8 }))).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: 'UnreadableJsonError: the body is not valid UTF-8' } },
    });
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect((await answer(await served.request('/any', { method: 'POST', body: nested(MAX_JSON_DEPTH) }))).status).toBe(200);
    expect(await answer(await served.request('/any', { method: 'POST', body: nested(100_000) }))).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: `UnreadableJsonError: the JSON is nested more than ${MAX_JSON_DEPTH} levels deep` } },
    });
    expect(await answer(await post(named, '\ufeff{"n":2}'))).toEqual({ status: 200, body: { n: 2, tag: 'none' } });
  });
});

describe('describeIssues', () => {
  const failure = (schema: z.ZodType, value: unknown) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) throw new Error('expected a failure');
    return parsed.error;
  };
  const five = z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string() });

  it('names each issue by its path, three at most unless told otherwise', () => {
    expect(describeIssues(failure(five, {})).split('; ').map((m) => m.split(':')[0])).toEqual(['a', 'b', 'c']);
    expect(describeIssues(failure(five, {}), { limit: Infinity }).split('; ')).toHaveLength(5);
    expect(describeIssues(failure(five, {}), { limit: 1 })).toBe('a: Invalid input: expected string, received undefined');
  });

  it('names the whole value only when asked, and a record key by its own problem', () => {
    const exactlyOne = z.object({ x: z.number().optional() }).refine((v) => v.x !== undefined, 'give x');
    expect(describeIssues(failure(exactlyOne, {}))).toBe('give x');
    expect(describeIssues(failure(exactlyOne, {}), { whole: 'body' })).toBe('body: give x');
    const keys = z.record(z.string().refine((k) => !k.startsWith('$'), 'no $ keys'), z.number());
    expect(describeIssues(failure(keys, { $or: 1 }))).toBe('$or: no $ keys');
  });
});

describe('limitBody', () => {
  function app(maxSize: number | (() => number)) {
    const { app } = appWithErrors();
    app.use(limitBody(maxSize, (max) => new ApiError(413, 'body_too_large', `over ${max} bytes`, { connection: 'close' })));
    app.post('/', async (c) => c.json({ received: (await c.req.arrayBuffer()).byteLength }));
    return app;
  }
  const streamed = (bytes: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < bytes; sent += 100) controller.enqueue(new Uint8Array(Math.min(100, bytes - sent)));
        controller.close();
      },
    });

  it('refuses a declared Content-Length over the limit with the service\'s error', async () => {
    const response = await app(10).request('/', { method: 'POST', body: 'x'.repeat(11) });
    expect(response.headers.get('connection')).toBe('close');
    expect(await answer(response)).toEqual({ status: 413, body: { error: { code: 'body_too_large', message: 'over 10 bytes' } } });
    expect(await answer(await app(10).request('/', { method: 'POST', body: 'x'.repeat(10) }))).toEqual({ status: 200, body: { received: 10 } });
  });

  it('counts a body of unknown length as it streams in', async () => {
    const send = (bytes: number) => app(() => 250).request(new Request('http://kit/', { method: 'POST', body: streamed(bytes), duplex: 'half' } as RequestInit));
    expect((await answer(await send(251))).status).toBe(413);
    expect(await answer(await send(250))).toEqual({ status: 200, body: { received: 250 } });
  });
});

describe('bearerAuth', () => {
  function app(token: string | undefined) {
    const { app } = appWithErrors();
    const refuse = (status: 401 | 403, reason: string) => () => new ApiError(status, reason, reason);
    app.use(
      bearerAuth({
        token: () => token,
        missing: refuse(401, 'missing'),
        malformed: refuse(401, 'malformed'),
        wrong: refuse(403, 'wrong'),
        disabled: refuse(403, 'disabled'),
      }),
    );
    app.get('/', (c) => c.json({ ok: true }));
    return app;
  }
  const codeFor = async (token: string | undefined, authorization?: string) => {
    const response = await app(token).request('/', authorization === undefined ? {} : { headers: { authorization } });
    return response.status === 200 ? 'ok' : ((await response.json()) as { error: { code: string } }).error.code;
  };

  it('lets the configured token through, whatever characters it holds', async () => {
    expect(await codeFor('s3cret', 'Bearer s3cret')).toBe('ok');
    expect(await codeFor('s3cret', 'bearer   s3cret ')).toBe('ok');
    expect(await codeFor('p@ss#w0rd!$', 'Bearer p@ss#w0rd!$')).toBe('ok');
  });

  it('tells a missing, a malformed and a wrong credential apart, and refuses everyone when no token is set', async () => {
    expect(await codeFor('s3cret')).toBe('missing');
    expect(await codeFor('s3cret', 'Basic czNjcmV0')).toBe('malformed');
    expect(await codeFor('s3cret', 'Bearer two words')).toBe('malformed');
    expect(await codeFor('s3cret', 'Bearer s3cre')).toBe('wrong');
    expect(await codeFor('s3cret', 'Bearer s3cretx')).toBe('wrong');
    expect(await codeFor(undefined, 'Bearer anything')).toBe('disabled');
    expect(await codeFor('', 'Bearer ')).toBe('malformed');
  });

  it('compares secrets of any length', async () => {
    expect(await timingSafeEqualStrings('token', 'token')).toBe(true);
    expect(await timingSafeEqualStrings('token', 'token2')).toBe(false);
    expect(await timingSafeEqualStrings('', 'x')).toBe(false);
  });
});

describe('serveRoute', () => {
  const rules: RequestRules = {
    repeated: (name) => new ApiError(400, 'repeated', name),
    invalidParameters: (error) => new ApiError(400, 'invalid_parameter', describeIssues(error)),
    mediaType: { accepts: /^application\/json\b/i, refuse: () => new ApiError(415, 'unsupported_media_type', 'send JSON') },
    malformed: () => new ApiError(400, 'invalid_json', 'not JSON'),
    invalid: (error) => new ApiError(400, 'invalid_body', describeIssues(error)),
  };
  const note = z.object({ text: z.string().max(20), pinned: z.boolean().default(false) }).meta({ id: 'Note' });
  const route = createRoute({
    method: 'post',
    path: '/boards/{board}/notes',
    summary: 'Add a note',
    request: {
      params: z.object({ board: z.string().regex(/^[a-z]+$/) }),
      query: z.strictObject({ position: z.coerce.number().int().min(0).default(0) }),
      body: { required: true, content: { 'application/json': { schema: note }, 'image/*': { schema: { type: 'string', format: 'binary' } } } },
    },
    responses: { 201: { description: 'Added' } },
  });

  function app() {
    const { app } = appWithErrors();
    const order: string[] = [];
    serveRoute(app, { ...route, middleware: [async (_c, next) => void (order.push('middleware'), await next())] }, rules, async (c, input) => {
      order.push('handler');
      return c.json({ ...input, image: input.json ? undefined : (await c.req.arrayBuffer()).byteLength }, 201);
    });
    return { app, order };
  }
  const post = (path: string, body: string | Uint8Array, contentType = 'application/json') =>
    app().app.request(path, { method: 'POST', body, headers: { 'content-type': contentType } });

  it('hands the handler the validated path, query and JSON body, after the route\'s middleware', async () => {
    const { app: served, order } = app();
    const response = await served.request('/boards/todo/notes?position=2', { method: 'POST', body: '{"text":"milk"}', headers: { 'content-type': 'application/json' } });
    expect(await answer(response)).toEqual({
      status: 201,
      body: { params: { board: 'todo' }, query: { position: 2 }, json: { text: 'milk', pinned: false } },
    });
    expect(order).toEqual(['middleware', 'handler']);
  });

  it('checks the path, then the query, then the body, each failure in the service\'s words', async () => {
    const bad = '{"text":1}';
    expect((await answer(await post('/boards/TODO/notes?position=-1', bad))).body).toEqual({
      error: { code: 'invalid_parameter', message: 'board: Invalid string: must match pattern /^[a-z]+$/' },
    });
    expect((await answer(await post('/boards/todo/notes?position=-1', bad))).body).toEqual({
      error: { code: 'invalid_parameter', message: 'position: Too small: expected number to be >=0' },
    });
    expect((await answer(await post('/boards/todo/notes?position=1&position=2', bad))).body).toEqual({ error: { code: 'repeated', message: 'position' } });
    expect((await answer(await post('/boards/todo/notes?position=%FF', bad))).body).toEqual({
      error: { code: 'invalid_parameter', message: 'position: is not valid percent-encoded UTF-8' },
    });
    expect((await answer(await post('/boards/todo/notes', bad))).body).toEqual({
      error: { code: 'invalid_body', message: 'text: Invalid input: expected string, received number' },
    });
    expect((await answer(await post('/boards/todo/notes', bad, 'text/plain'))).status).toBe(415);
  });

  it('leaves a body of another declared media type to the handler', async () => {
    expect(await answer(await post('/boards/todo/notes', new Uint8Array(5), 'image/png'))).toEqual({
      status: 201,
      body: { params: { board: 'todo' }, query: { position: 0 }, image: 5 },
    });
    expect(matchesMediaType('image/png; q=1', 'image/*')).toBe(true);
    expect(matchesMediaType('image/', 'image/*')).toBe(false);
    expect(matchesMediaType('Multipart/Form-Data; boundary=x', 'multipart/form-data')).toBe(true);
  });

  it('lists the route in the OpenAPI document with the schemas it validates with', () => {
    const { app: served } = app();
    const doc = served.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'kit', version: '1' } });
    const operation = doc.paths!['/boards/{board}/notes']!.post!;
    expect(operation.summary).toBe('Add a note');
    expect(operation.parameters).toEqual([
      expect.objectContaining({ name: 'board', in: 'path', required: true }),
      expect.objectContaining({ name: 'position', in: 'query', required: false, schema: expect.objectContaining({ minimum: 0, default: 0 }) }),
    ]);
    expect(doc.components?.schemas?.Note).toMatchObject({ properties: { text: { type: 'string', maxLength: 20 }, pinned: { type: 'boolean' } } });
  });
});
