// The backfill queue's consumer (the worker's `queue` handler). For each
// batch of descriptors: fetch the images (the SSRF-guarded fetch search uses
// for image URLs), embed them in batches through the embedder client (every
// upstream, failover, circuit breakers) and remember each embedding under its
// image's SHA-256 in KV, as the admin items route does (so the image can be
// searched for by hash: GET /v1/search?image=sha256:<hex>), upsert the
// vectors by id with the image's size in metadata.bytes and their model in
// metadata.model (the VECTORIZE binding or the REST adapter, as the admin
// items route; during a model migration into both indexes, each embedded by
// its own embedders: worker/generations.ts), bump the index version so
// cached results stop being served, and settle each message on its own:
//
// - indexed: ack. Upserts by the item's id make a redelivery harmless.
// - the item itself is bad (the URL answers 404, the embedder refuses the
//   bytes, the descriptor is malformed): sent to BACKFILL_DLQ with the
//   reason, then acked; it is never retried.
// - anything else (the embedder, the index or the image host unavailable):
//   retried with exponential backoff; after the consumer's max_retries Queues
//   moves it to the same dead-letter queue itself.
import type { Message, MessageBatch, VectorizeVector } from '@cloudflare/workers-types/index.ts';
import type { Env } from '../config.ts';
import type { ModelInfo } from '../embedding/embedder-client.ts';
import { resolveImage } from '../embedding/image-input.ts';
import type { Generation } from '../generations.ts';
import { backfillItemSchema, metadataSchema, type BackfillItem } from '../schemas.ts';
import { servicesFor, type Services } from '../services.ts';
import { isContentRefusal, outcomeOf, retryDelaySeconds, type Failure, type Outcome } from './outcome.ts';
import { sendAll } from './send.ts';

/** A message in the dead-letter queue sent by this consumer (those Queues moves there after max_retries are the descriptor alone). */
export interface DeadLetter {
  /** The message body as it came: a BackfillItem, unless it was malformed. */
  item: unknown;
  error: Failure;
  attempts: number;
  /** ISO 8601. */
  failedAt: string;
}

interface Job {
  message: Message;
  item: BackfillItem;
}

type Fetched = { job: Job; bytes: Uint8Array } | { job: Job; error: unknown };

/** An index the batch is written to, with the model of its embedders. */
interface Target {
  generation: Generation;
  model: ModelInfo;
}

/** An embedded image; `bytes`: the size of what was fetched, for metadata.bytes. */
interface Row {
  job: Job;
  values: Float32Array;
  bytes: number;
}

type Embedded = Map<Target, Row[]>;

export async function consumeBackfill(batch: MessageBatch, env: Env): Promise<void> {
  // Invalid settings throw here, and Queues retries the whole batch.
  const services = servicesFor(env);
  const outcomes = new Map<Message, Outcome>();
  const jobs = latestPerId(batch.messages, outcomes);
  const targets = jobs.length ? await writeTargets(services, jobs, outcomes) : [];
  if (targets.length) {
    const embedded = await embedAll(jobs, services, targets, outcomes);
    await upsert(embedded, services, outcomes);
  }
  await settle(batch, outcomes, env, services);
}

/** Every configured index and its embedders' model; when one cannot be asked (or serves another model than its index holds), the batch is retried. */
async function writeTargets(services: Services, jobs: Job[], outcomes: Map<Message, Outcome>): Promise<Target[]> {
  const pending: Promise<unknown>[] = [];
  try {
    const { writes } = await services.generations.resolve();
    return await Promise.all(
      writes.map(async (generation) => ({ generation, model: await services.generations.modelForWrite(generation, (p) => void pending.push(p)) })),
    );
  } catch (error) {
    const failure = outcomeOf(error);
    for (const { message } of jobs) outcomes.set(message, failure.kind === 'dead' ? { ...failure, kind: 'retry' } : failure);
    return [];
  } finally {
    await Promise.allSettled(pending);
  }
}

/** Valid descriptors, the last one of each id (an earlier one is superseded); malformed ones are dead. */
function latestPerId(messages: readonly Message[], outcomes: Map<Message, Outcome>): Job[] {
  const latest = new Map<string, Job>();
  for (const message of messages) {
    const parsed = backfillItemSchema.safeParse(message.body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      outcomes.set(message, { kind: 'dead', code: 'invalid_parameter', message: `not a backfill descriptor: ${problems}` });
      continue;
    }
    const earlier = latest.get(parsed.data.id);
    if (earlier) outcomes.set(earlier.message, { kind: 'superseded' });
    latest.set(parsed.data.id, { message, item: parsed.data });
  }
  return [...latest.values()];
}

/**
 * Embeddings for the jobs, QUEUE_EMBED_BATCH images per embedder request, the next group's images
 * fetched while one is embedded. When the embedder is unavailable the rest of the batch waits for
 * a retry instead of trying it again and again.
 */
async function embedAll(jobs: Job[], services: Services, targets: Target[], outcomes: Map<Message, Outcome>): Promise<Embedded> {
  const size = services.config.QUEUE_EMBED_BATCH;
  const groups = Array.from({ length: Math.ceil(jobs.length / size) }, (_, i) => jobs.slice(i * size, (i + 1) * size));
  const fetchGroup = (group: Job[]) =>
    Promise.all(
      group.map(async (job): Promise<Fetched> => {
        try {
          return { job, bytes: await resolveImage(job.item.url, services.imageLimits) };
        } catch (error) {
          return { job, error };
        }
      }),
    );
  const embedded: Embedded = new Map(targets.map((target) => [target, []]));
  let next = groups[0] ? fetchGroup(groups[0]) : undefined;
  for (let g = 0; next; g++) {
    const fetched = await next;
    next = groups[g + 1] ? fetchGroup(groups[g + 1]!) : undefined;
    const images: { job: Job; bytes: Uint8Array }[] = [];
    for (const result of fetched) {
      if ('bytes' in result) images.push(result);
      else outcomes.set(result.job.message, outcomeOf(result.error));
    }
    try {
      for (const target of targets) embedded.get(target)!.push(...(await embedIsolating(images, target.generation, outcomes)));
    } catch (error) {
      const failure = outcomeOf(error);
      for (const job of groups.slice(g).flat()) if (!outcomes.has(job.message)) outcomes.set(job.message, failure);
      await next; // nothing left in flight once the handler returns
      break;
    }
  }
  // An image one index's embedders refused is dead for every index.
  for (const [target, rows] of embedded) embedded.set(target, rows.filter(({ job }) => !outcomes.has(job.message)));
  return embedded;
}

/**
 * One embedder request for the images; when the embedder refuses the request for what it holds
 * (a 4xx: an undecodable image, one too large), halves until each refused image is alone and dead.
 * Other failures (the embedder unavailable) are thrown.
 */
async function embedIsolating(
  images: { job: Job; bytes: Uint8Array }[],
  generation: Generation,
  outcomes: Map<Message, Outcome>,
): Promise<Row[]> {
  if (images.length === 0) return [];
  try {
    const rows = await generation.embeddings.embedImagesAndRemember(images.map((i) => i.bytes));
    return images.map(({ job, bytes }, i) => ({ job, values: rows[i]!, bytes: bytes.byteLength }));
  } catch (error) {
    if (!isContentRefusal(error)) throw error;
    if (images.length === 1) {
      outcomes.set(images[0]!.job.message, { kind: 'dead', code: String(error.code), message: `the embedder refused the image: ${error.message}` });
      return [];
    }
    const half = Math.ceil(images.length / 2);
    const first = await embedIsolating(images.slice(0, half), generation, outcomes);
    return [...first, ...(await embedIsolating(images.slice(half), generation, outcomes))];
  }
}

/** The descriptor's metadata wins over the size the consumer measured; the model is always the one that made the vector. */
const vectorOf = ({ job: { item }, values, bytes }: Row, model: ModelInfo): VectorizeVector => ({
  id: item.id,
  values: Array.from(values),
  ...(item.namespace !== undefined ? { namespace: item.namespace } : {}),
  metadata: { bytes, ...item.metadata, model: model.id },
});

/**
 * One upsert for the whole batch into each index; then a new index version, as after the admin
 * items route's writes. A message is indexed once every index has it; a failed upsert anywhere
 * retries it (an upsert again is harmless).
 */
async function upsert(embedded: Embedded, services: Services, outcomes: Map<Message, Outcome>): Promise<void> {
  const writes = [...embedded].map(([target, rows]) => ({ target, rows, vectors: rows.map((row) => vectorOf(row, target.model)) }));
  // The index refuses a whole upsert for one vector's metadata: one that what the consumer adds
  // takes over Vectorize's limit is dead, in every index, rather than holding back its batch.
  const refused = new Set<Message>();
  for (const { rows, vectors } of writes)
    vectors.forEach((vector, i) => {
      const checked = metadataSchema.safeParse(vector.metadata);
      if (checked.success) return;
      const { message } = rows[i]!.job;
      refused.add(message);
      outcomes.set(message, { kind: 'dead', code: 'invalid_metadata', message: `with bytes and model added: ${checked.error.issues[0]!.message}` });
    });
  let wrote = false;
  for (const { target: { generation, model }, ...write } of writes) {
    const rows = write.rows.filter(({ job }) => !refused.has(job.message));
    const vectors = write.vectors.filter((_, i) => !refused.has(write.rows[i]!.job.message));
    if (rows.length === 0) continue;
    try {
      const { mutationId } = await generation.index.upsert(vectors);
      wrote = true;
      await services.generations.recordWrite(generation, mutationId, model.id);
    } catch (error) {
      // Whatever the index says (unreachable, or dimensions that do not match the embedder's), the items are not at fault.
      const message = error instanceof Error ? error.message : String(error);
      for (const { job } of rows) outcomes.set(job.message, { kind: 'retry', code: 'index_unavailable', message });
      continue;
    }
    for (const { job } of rows) if (!outcomes.has(job.message)) outcomes.set(job.message, { kind: 'indexed' });
  }
  if (!wrote) return;
  try {
    await services.version.bump();
  } catch (error) {
    console.error('index version bump failed; cached results expire with their TTL', error);
  }
}

/** Acks, dead letters and retries, message by message. */
async function settle(batch: MessageBatch, outcomes: Map<Message, Outcome>, env: Env, services: Services): Promise<void> {
  const backoff = { baseSeconds: services.config.QUEUE_RETRY_BASE_SECONDS, maxSeconds: services.config.QUEUE_RETRY_MAX_SECONDS };
  const retry = (message: Message, outcome: { retryAfterSeconds?: number }) =>
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts, backoff, outcome.retryAfterSeconds) });

  const dead = batch.messages.flatMap((message) => {
    const outcome = outcomes.get(message);
    return outcome?.kind === 'dead' ? [{ message, error: { code: outcome.code, message: outcome.message } }] : [];
  });
  let deadLettered = false;
  if (dead.length && env.BACKFILL_DLQ) {
    const at = new Date().toISOString();
    try {
      await sendAll(env.BACKFILL_DLQ, dead.map(({ message, error }): DeadLetter => ({ item: message.body, error, attempts: message.attempts, failedAt: at })));
      deadLettered = true;
    } catch (error) {
      console.error('backfill: the dead-letter queue refused messages; they are retried', error);
    }
  } else if (dead.length) {
    console.error('backfill: no BACKFILL_DLQ binding; permanently bad items are retried until Queues moves them to the dead-letter queue');
  }

  const counts = { indexed: 0, retried: 0, deadLettered: 0 };
  const failures: string[] = [];
  for (const message of batch.messages) {
    const outcome = outcomes.get(message) ?? { kind: 'retry', code: 'internal_error', message: 'not processed' };
    switch (outcome.kind) {
      case 'indexed':
      case 'superseded':
        counts.indexed++;
        message.ack();
        break;
      case 'dead':
        failures.push(`${outcome.code}: ${outcome.message}`);
        if (deadLettered) {
          counts.deadLettered++;
          message.ack();
        } else {
          counts.retried++;
          retry(message, {});
        }
        break;
      case 'retry':
        failures.push(`${outcome.code}: ${outcome.message}`);
        counts.retried++;
        retry(message, outcome);
    }
  }
  if (failures.length)
    console.warn(JSON.stringify({ msg: 'backfill batch', queue: batch.queue, messages: batch.messages.length, ...counts, firstFailure: failures[0] }));
}
