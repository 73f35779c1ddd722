// Durability under SIGKILL: run the real entry point as a child process,
// drive concurrent writes (with snapshots rotating the log underneath), kill
// it mid-load, restart on the same data directory, and check that every
// acknowledged write — upserts and deletes — is there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Cloudflare, { toFile } from 'cloudflare';
import { afterAll, expect, it } from 'vitest';
import { spawnIndexServer, type SpawnedServer } from '../support/index-server.ts';
import { sleep } from '../support/timing.ts';

const DIM = 16;
const TOKEN = 'crash-token';

const servers: SpawnedServer[] = [];
let dataDir: string;

afterAll(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function startServer(dir: string) {
  const server = await spawnIndexServer({
    INDEX_DATA_DIR: dir,
    INDEX_TOKEN: TOKEN,
    // Small, so snapshots and log rotation happen during the load.
    INDEX_SNAPSHOT_WAL_BYTES: String(16 * 1024),
  });
  servers.push(server);
  return { ...server, client: new Cloudflare({ apiToken: TOKEN, baseURL: server.url, maxRetries: 0 }) };
}

const vectorFor = (id: string): number[] => {
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return Array.from({ length: DIM }, (_, i) => Math.fround(Math.sin(h + i * 7.3)));
};

it('keeps every acknowledged write across kill -9', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'index-crash-'));
  const account_id = 'crash';
  const first = await startServer(dataDir);
  const api = first.client.vectorize.indexes;
  await api.create({ account_id, name: 'crash', config: { dimensions: DIM, metric: 'cosine' } });
  await api.metadataIndex.create('crash', { account_id, propertyName: 'worker', indexType: 'number' });

  const acked = new Set<string>();
  const deletedAcked = new Set<string>();
  // A delete in flight at the kill is unacknowledged: its id may or may not survive.
  const deleteInFlight = new Set<string>();
  let stop = false;
  let failures = 0;

  const worker = async (w: number) => {
    for (let n = 0; !stop; n++) {
      try {
        if (n % 5 === 4 && acked.size > 0) {
          const victim = [...acked].find((id) => id.startsWith(`w${w}-`) && !deletedAcked.has(id));
          if (victim) {
            deleteInFlight.add(victim);
            await api.deleteByIDs('crash', { account_id, ids: [victim] });
            deleteInFlight.delete(victim);
            deletedAcked.add(victim);
            continue;
          }
        }
        const batch = Array.from({ length: 4 }, (_, j) => {
          const id = `w${w}-${n}-${j}`;
          return { id, values: vectorFor(id), metadata: { worker: w, n, j, text: `vector ${id}` } };
        });
        const body = batch.map((v) => JSON.stringify(v)).join('\n');
        await api.upsert('crash', { account_id, body: await toFile(Buffer.from(body), 'v.ndjson') });
        for (const v of batch) acked.add(v.id);
      } catch {
        failures++; // the kill: unacknowledged, may or may not be stored
        return;
      }
    }
  };
  const load = [0, 1, 2, 3].map(worker);
  const started = Date.now();
  while (acked.size < 2000 && Date.now() - started < 20_000) await sleep(20);
  await first.stop('SIGKILL');
  stop = true;
  await Promise.all(load);
  expect(acked.size).toBeGreaterThanOrEqual(100);
  expect(failures).toBeGreaterThan(0); // requests were in flight when it died
  expect(first.messages.filter((m) => m === 'snapshot written').length).toBeGreaterThan(0);

  const second = await startServer(dataDir);
  const api2 = second.client.vectorize.indexes;
  const live = [...acked].filter((id) => !deletedAcked.has(id));
  for (let i = 0; i < live.length; i += 1000) {
    const ids = live.slice(i, i + 1000);
    const got = (await api2.getByIDs('crash', { account_id, ids })) as { id: string; values: number[]; metadata: { worker: number; text: string } }[];
    const byId = new Map(got.map((v) => [v.id, v]));
    for (const id of ids) {
      const v = byId.get(id);
      if (!v && deleteInFlight.has(id)) continue;
      expect(v, `acknowledged ${id} missing after restart`).toBeDefined();
      expect(v!.values).toEqual(vectorFor(id));
      expect(v!.metadata).toMatchObject({ worker: Number(id.slice(1, id.indexOf('-'))), text: `vector ${id}` });
    }
  }
  const deleted = [...deletedAcked];
  if (deleted.length > 0) expect(await api2.getByIDs('crash', { account_id, ids: deleted.slice(0, 1000) })).toEqual([]);

  // Still a working index: filters on the metadata index and counts agree.
  const info = await api2.info('crash', { account_id });
  expect(info!.vectorCount).toBeGreaterThanOrEqual(live.length - deleteInFlight.size);
  const probe = live.find((id) => !deleteInFlight.has(id))!;
  const matches = await api2.query('crash', { account_id, vector: vectorFor(probe), topK: 1, filter: { worker: Number(probe[1]) } });
  expect(matches!.matches![0]!.id).toBe(probe);
  await second.stop('SIGTERM');
}, 120_000);
