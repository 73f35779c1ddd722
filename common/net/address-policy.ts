// Which hosts a user-supplied URL may reach: the public internet only. Refused
// are loopback, private ranges, link-local (cloud metadata at
// 169.254.169.254 included), carrier-grade NAT, NAT64, multicast and the
// reserved ranges, in IPv4, IPv6 and IPv4 carried in IPv6 (::ffff:a.b.c.d,
// however it is written), and the names that only mean something locally.
// Web-standard code: the worker checks URL hostnames with it (workerd resolves
// names itself), the embedder the addresses a name resolves to.

type Range = readonly [network: string, prefixLength: number];

const blockedIPv4: readonly Range[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const blockedIPv6: readonly Range[] = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const IPV4_MAPPED: Range = ['::ffff:0:0', 96];

function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return Uint8Array.from(parts, Number);
}

function parseIPv6(text: string): Uint8Array | null {
  const address = text.replace(/%[\w.-]+$/, ''); // a zone (fe80::1%eth0) does not change the address
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string | undefined): number[] | null => {
    if (!half) return [];
    const out: number[] = [];
    const words = half.split(':');
    for (const [i, word] of words.entries()) {
      if (i === words.length - 1 && word.includes('.')) {
        const v4 = parseIPv4(word);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(word)) out.push(parseInt(word, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return null;
  const compressed = halves.length === 2;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return null;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
}

function parseRange([network, prefixLength]: Range): { bytes: Uint8Array; prefixLength: number } {
  const bytes = network.includes(':') ? parseIPv6(network) : parseIPv4(network);
  if (!bytes) throw new Error(`bad network ${network}`);
  return { bytes, prefixLength };
}

function inRange(address: Uint8Array, range: { bytes: Uint8Array; prefixLength: number }): boolean {
  if (address.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.prefixLength; bit += 8) {
    const mask = (0xff << (8 - Math.min(8, range.prefixLength - bit))) & 0xff;
    if ((address[bit / 8]! & mask) !== (range.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

const blocked = [...blockedIPv4, ...blockedIPv6].map(parseRange);
const mapped = parseRange(IPV4_MAPPED);

/** The 4 or 16 bytes of an IP address literal (no brackets), or null when `text` is not one. */
export function parseIp(text: string): Uint8Array | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** Whether an IP address (v4 or v6, no brackets) is on the public internet; anything that is not an address is not. */
export function isPublicAddress(address: string): boolean {
  const bytes = parseIp(address);
  if (!bytes) return false;
  const ip = inRange(bytes, mapped) ? bytes.subarray(12) : bytes;
  return !blocked.some((range) => inRange(ip, range));
}

/**
 * Whether a URL's hostname (as `URL.hostname` gives it: IPv6 in brackets,
 * perhaps a trailing dot) names a host off the public internet: localhost and
 * local-only suffixes, or a non-public address literal. Other names are not
 * resolved here.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || /\.(localhost|local|internal|home\.arpa)$/.test(host)) return true;
  return parseIp(host) !== null && !isPublicAddress(host);
}

/** Which resolved addresses a fetch may connect to. */
export type AddressPolicy = (address: string) => boolean;
export const publicOnly: AddressPolicy = isPublicAddress;
export const anyAddress: AddressPolicy = () => true;
