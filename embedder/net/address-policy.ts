// Which addresses an image URL may resolve to. Blocks everything that is not
// the public internet: loopback, private ranges, link-local (incl. cloud
// metadata at 169.254.169.254), carrier-grade NAT, multicast and reserved.
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
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
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** An IPv4 address carried in an IPv6 one (::ffff:a.b.c.d), if any. */
function embeddedIPv4(address: string): string | null {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : null;
}

export function isPublicAddress(address: string): boolean {
  const v4 = embeddedIPv4(address);
  if (v4) return isPublicAddress(v4);
  const family = isIP(address);
  if (family === 0) return false;
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type AddressPolicy = (address: string) => boolean;
export const publicOnly: AddressPolicy = isPublicAddress;
export const anyAddress: AddressPolicy = () => true;
