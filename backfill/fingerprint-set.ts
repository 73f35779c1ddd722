// A set of 64-bit fingerprints in one open-addressing table: 16 bytes per
// entry at worst, against some 60 for a Set of hex strings, so ten million
// checkpointed items fit in ~160 MB and a few thousand in a few pages.
import { createHash } from 'node:crypto';

/** The first 8 bytes of the SHA-256 of `text`, as 16 hex characters. */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

const EMPTY = 0;

export class FingerprintSet {
  // Pairs of 32-bit halves; (0, 0) marks an empty slot, so the fingerprint 0 is stored as (0, 1).
  private slots = new Uint32Array(2 * 1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a 16-hex-character fingerprint; false if it was there already. */
  add(hex: string): boolean {
    if ((this.count + 1) * 2 > this.slots.length / 2) this.grow();
    return this.insert(...halves(hex));
  }

  has(hex: string): boolean {
    const [hi, lo] = halves(hex);
    const mask = this.slots.length / 2 - 1;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const h = this.slots[2 * slot]!;
      const l = this.slots[2 * slot + 1]!;
      if (h === EMPTY && l === EMPTY) return false;
      if (h === hi && l === lo) return true;
    }
  }

  private insert(hi: number, lo: number): boolean {
    const mask = this.slots.length / 2 - 1;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const h = this.slots[2 * slot]!;
      const l = this.slots[2 * slot + 1]!;
      if (h === hi && l === lo) return false;
      if (h === EMPTY && l === EMPTY) {
        this.slots[2 * slot] = hi;
        this.slots[2 * slot + 1] = lo;
        this.count++;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY || old[i + 1] !== EMPTY) this.insert(old[i]!, old[i + 1]!);
  }
}

function halves(hex: string): [number, number] {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new TypeError(`not a 64-bit hex fingerprint: ${JSON.stringify(hex)}`);
  const hi = Number.parseInt(hex.slice(0, 8), 16) >>> 0;
  const lo = Number.parseInt(hex.slice(8), 16) >>> 0;
  return hi === EMPTY && lo === EMPTY ? [0, 1] : [hi, lo];
}
