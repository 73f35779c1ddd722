// Sending JSON messages to a Cloudflare Queue within its limits
// (../shared/docs/queues.md): sendBatch takes at most 100 messages and
// 256 KB per call, and a message is at most 128 KB, about 100 bytes of which
// are Queues' own metadata.
import type { MessageSendRequest, Queue } from '@cloudflare/workers-types/index.ts';

export const QUEUE_LIMITS = { batchMessages: 100, batchBytes: 256_000, messageBytes: 128_000, messageOverheadBytes: 100 } as const;

const encoder = new TextEncoder();

/** A message's size as Queues counts it: its JSON and the overhead. */
export const messageBytes = (body: unknown) => encoder.encode(JSON.stringify(body)).length + QUEUE_LIMITS.messageOverheadBytes;

/** `bodies` in sendBatch-sized groups, in order; throws on a body that no queue would take. */
export function sendGroups<T>(bodies: readonly T[]): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = messageBytes(body);
    if (size > QUEUE_LIMITS.messageBytes) throw new RangeError(`a queue message of ${size} bytes is over Queues' ${QUEUE_LIMITS.messageBytes}`);
    if (group.length === QUEUE_LIMITS.batchMessages || bytes + size > QUEUE_LIMITS.batchBytes) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(body);
    bytes += size;
  }
  if (group.length) groups.push(group);
  return groups;
}

/**
 * Sends every body as a JSON message, one sendBatch per group, in order. On a failure the groups
 * before it are in the queue (`sent` says how many bodies); consumers are idempotent, so sending
 * everything again is safe.
 */
export async function sendAll<T>(queue: Queue, bodies: readonly T[]): Promise<void> {
  let sent = 0;
  for (const group of sendGroups(bodies)) {
    try {
      await queue.sendBatch(group.map((body): MessageSendRequest => ({ body, contentType: 'json' })));
    } catch (error) {
      throw new QueueSendError(sent, error);
    }
    sent += group.length;
  }
}

export class QueueSendError extends Error {
  override name = 'QueueSendError';
  constructor(
    readonly sent: number,
    override readonly cause: unknown,
  ) {
    super(`sending to the queue failed after ${sent} messages: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
