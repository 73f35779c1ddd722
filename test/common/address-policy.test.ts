import { describe, expect, it } from 'vitest';
import { isPrivateHost, isPublicAddress, parseIp } from '../../common/net/address-policy.ts';

describe('isPublicAddress', () => {
  it.each([
    // IPv4: this network, private, carrier-grade NAT, loopback, link-local (cloud metadata), IETF, benchmarking, multicast, reserved, broadcast
    '0.0.0.0', '10.0.0.5', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.1.2.3', '169.254.169.254', '172.16.0.1',
    '172.31.255.255', '192.0.0.8', '192.168.1.1', '198.18.0.1', '198.19.255.255', '224.0.0.1', '239.255.255.250',
    '240.0.0.1', '255.255.255.255',
    // IPv6: unspecified, loopback, IPv4-compatible, NAT64, unique local, link-local (with a zone), site-local, multicast
    '::', '::1', '::7f00:1', '::127.0.0.1', '64:ff9b::a9fe:a9fe', 'fc00::1', 'fd00:ec2::254', 'fe80::1', 'fe80::1%eth0',
    'febf::1', 'fec0::1', 'ff02::1',
    // IPv4 in IPv6, dotted or in hex as the URL parser writes it
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:169.254.169.254', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:10.0.0.1',
    // not addresses at all
    'not-an-ip', '', 'example.com', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', ':1', 'g::1',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each([
    '8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.63.255.255', '100.128.0.1', '192.0.1.1', '198.20.0.1',
    '223.255.255.255', '93.184.216.34', '2606:4700:4700::1111', '2001:4860:4860:0:0:0:0:8888', '::ffff:8.8.8.8',
    '::ffff:808:808', 'fe00::1', '1:2:3:4:5:6:7::',
  ])('allows %s', (address) => expect(isPublicAddress(address)).toBe(true));
});

describe('parseIp', () => {
  it('reads IPv4 and every IPv6 spelling into their bytes', () => {
    expect(Array.from(parseIp('192.0.2.1')!)).toEqual([192, 0, 2, 1]);
    const mappedBytes = [...Array<number>(10).fill(0), 0xff, 0xff, 127, 0, 0, 1];
    expect(Array.from(parseIp('::ffff:127.0.0.1')!)).toEqual(mappedBytes);
    expect(Array.from(parseIp('::ffff:7f00:1')!)).toEqual(mappedBytes);
    expect(Array.from(parseIp('0:0:0:0:0:ffff:7f00:0001')!)).toEqual(mappedBytes);
    expect(Array.from(parseIp('2001:db8::')!)).toEqual([0x20, 0x01, 0x0d, 0xb8, ...Array<number>(12).fill(0)]);
  });
});

describe('isPrivateHost (a URL hostname, checked before any request)', () => {
  it.each([
    'localhost', 'LOCALHOST', 'localhost.', 'a.localhost', 'printer.local', 'metadata.google.internal', 'nas.home.arpa',
    '127.0.0.1', '10.1.2.3', '169.254.169.254', '[::1]', '[::ffff:7f00:1]', '[fe80::1]', '[fd00::1]',
  ])('refuses %s', (host) => expect(isPrivateHost(host)).toBe(true));

  it.each(['example.com', 'local.example.com', 'internal.example', '8.8.8.8', '[2606:4700:4700::1111]'])('allows %s', (host) =>
    expect(isPrivateHost(host)).toBe(false),
  );

  it('sees the private address behind a URL the parser normalised', () => {
    for (const raw of ['https://0x7f.1/a.png', 'https://2130706433/a.png', 'https://[::ffff:127.0.0.1]/a.png', 'https://[0::1]/a.png'])
      expect(isPrivateHost(new URL(raw).hostname), raw).toBe(true);
  });
});
