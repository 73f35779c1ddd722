// `npm start` keeps the stack up: a service killed with SIGKILL (the
// embedder, the index, the worker) is restarted on the same port and data
// directory while the worker answers from its cache
// or with 503 + Retry-After, and searches work again within about a second of
// the service being ready; Ctrl-C still stops everything; a service that
// fails at once, again and again, makes the stack give up loudly.
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, alive, startStackCommand } from './stack-command.ts';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { cache?: string; results?: { id: string }[]; error?: { code: string } };
}

const search = async (base: string, q: string): Promise<Answer> => {
  const response = await fetch(`${base}/v1/search?q=${encodeURIComponent(q)}&k=2`);
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Answer['body'] };
};

describe('npm start', () => {
  it('restarts a service killed with SIGKILL, serving stale or 503 meanwhile, and stops cleanly on Ctrl-C', { timeout: 180_000 }, async () => {
    const stack = await startStackCommand();
    const { url } = stack;
    await stack.waitFor(/^search API:/);
    expect(stack.lines.join('\n')).toMatch(/^metrics: +embedder http:\/\/127\.0\.0\.1:\d+\/metrics \(Prometheus\) +index http:\/\/127\.0\.0\.1:\d+\/metrics/m);

    const items = ['a lighthouse on a cliff', 'a bowl of soup', 'a city tram'].map((text, i) => ({ id: `t${i}`, text }));
    const written = await fetch(`${url}/v1/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    expect(written.status).toBe(202);
    expect((await search(url, 'lighthouse')).body.cache).toBe('miss');

    // The embedder dies.
    const embedderPid = stack.pid('embedder');
    const before = stack.lines.length;
    process.kill(embedderPid, 'SIGKILL');
    await stack.waitFor(/^\[embedder\] exited \(signal SIGKILL\); restarting in 250 ms/, before);

    // Meanwhile: a cached query is answered, a new one gets 503 with Retry-After, nothing else.
    const cached = await search(url, 'lighthouse');
    expect(cached.status).toBe(200);
    expect(['hit', 'stale']).toContain(cached.body.cache);
    const fresh = await search(url, 'a question nobody asked');
    expect(fresh.status).toBe(503);
    expect(fresh.body.error?.code).toBe('embedder_unavailable');
    expect(Number(fresh.retryAfter)).toBeGreaterThanOrEqual(1);
    // A few more misses open the embedder's circuit (BREAKER_FAILURES, 3): from here on it is the
    // circuit's readiness probe that must notice the restarted embedder.
    for (let i = 0; i < 3; i++) expect((await search(url, `unasked question ${i}`)).status).toBe(503);
    expect(JSON.stringify((await (await fetch(`${url}/healthz`)).json()) as unknown)).toContain('"circuit":"open"');

    // It comes back as a new process, and searches that need it work again within about a second.
    const readyAgain = await stack.waitFor(/^\[embedder\] ready again/, before);
    expect(stack.pid('embedder')).not.toBe(embedderPid);
    let recovered: Answer | undefined;
    while (performance.now() - readyAgain.at < 5000) {
      recovered = await search(url, `a question asked at ${performance.now()}`);
      if (recovered.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(recovered?.status).toBe(200);
    expect(performance.now() - readyAgain.at).toBeLessThan(2500);

    // The index dies and comes back on the same data directory: the items are still there.
    const indexPid = stack.pid('index');
    const beforeIndex = stack.lines.length;
    process.kill(indexPid, 'SIGKILL');
    await stack.waitFor(/^\[index\] exited \(signal SIGKILL\); restarting/, beforeIndex);
    const down = await search(url, 'another question nobody asked');
    expect([200, 503]).toContain(down.status);
    if (down.status === 503) expect(down.retryAfter).toBeTruthy();
    await stack.waitFor(/^\[index\] ready again/, beforeIndex);
    const item = await fetch(`${url}/v1/items/t1`);
    expect(item.status).toBe(200);
    expect((await search(url, 'soup')).status).toBe(200);

    // The worker dies (its Node process; workerd, its child, must not keep the port) and comes back.
    const workerPid = stack.pid('worker');
    const beforeWorker = stack.lines.length;
    process.kill(workerPid, 'SIGKILL');
    await stack.waitFor(/^\[worker\] ready again/, beforeWorker);
    expect((await search(url, 'soup')).status).toBe(200);

    // Ctrl-C: every service stops, and so does npm start, with exit code 0.
    const pids = ['embedder', 'index', 'worker'].map((s) => stack.pid(s));
    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow(); // nothing (no workerd) is left on the worker's port
  });

  it('gives up, stops the stack and exits 1 when a service fails at once five times within a minute', { timeout: 120_000 }, async () => {
    const stack = await startStackCommand({ INDEX_PORT: '99999' }); // the index refuses this port at once
    const code = await stack.exited;
    const output = stack.lines.join('\n');
    expect(code).toBe(1);
    expect(output).toMatch(/^\[index\] exited \(exit code 2\); restarting in 250 ms \(failure 1 of 5 allowed within 60 s\)$/m);
    expect(output).toMatch(/^\[index\] exited \(exit code 2\); restarting in 2000 ms \(failure 4 of 5/m);
    expect(output).toMatch(/^index failed 5 times within 60 s \(last: exit code 2\); giving up; stopping the stack$/m);
    expect(alive(stack.pid('embedder'))).toBe(false);
  });
});
