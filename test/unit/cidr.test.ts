import { expect } from 'chai';
import { cidrContains, cidrStrictlyInside, parseCidr, parseIp } from '../../src/model/cidr.js';

const hex = (text: string) =>
  parseIp(text)
    ?.bytes.map((b) => b.toString(16).padStart(2, '0'))
    .join('');

describe("IP and CIDR parsing (the API server's sloppy parser)", () => {
  it('reads IPv4 octets with leading zeros as decimal and rejects the malformed', () => {
    expect(parseIp('010.001.000.009')?.bytes).to.deep.equal([10, 1, 0, 9]);
    for (const bad of [
      '10.0.0',
      '10.0.0.256',
      ' 10.0.0.1',
      '10.0.0.1 ',
      '10.0.0.1.',
      '0x0a.0.0.1',
      '',
    ])
      expect(parseIp(bad), bad).to.equal(undefined);
  });

  it('reads IPv6 like Go: ellipsis, a trailing dotted quad as the low 32 bits, long zero-padded groups', () => {
    expect(hex('::1.2.3.4')).to.equal('00000000000000000000000001020304');
    expect(hex('::ffff:10.0.0.1')).to.equal('00000000000000000000ffff0a000001');
    expect(hex('00001::')).to.equal('00010000000000000000000000000000');
    expect(hex('fd00::1')).to.equal('fd000000000000000000000000000001');
    for (const bad of [
      '::ffff:0x0a.0.0.1',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1::',
      'fe80::1%eth0',
      '10000::',
    ])
      expect(parseIp(bad), bad).to.equal(undefined);
  });

  it('reads IPv6 group counts like Go: a dotted quad without :: only as the last 32 bits, :: standing for at least one group', () => {
    expect(hex('1:2:3:4:5:6:1.2.3.4')).to.equal('00010002000300040005000601020304');
    expect(hex('1:2:3:4:5:6:7:8')).to.equal('00010002000300040005000600070008');
    for (const bad of [
      '1:2:3:4:5:1.2.3.4', // the quad would be bytes 10-13
      '1:2:3:4:5:6:7:1.2.3.4', // 18 bytes
      '1:2:3:4::5:6:7:8', // :: for no group at all
      '::1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8::',
    ])
      expect(parseIp(bad), bad).to.equal(undefined);
  });

  it('reads a decimal number up to the first non-digit, whichever side of the digits it falls', () => {
    for (const bad of ['1a.0.0.0', '10.0.0.1a', '10:0.0.1', '10.0.0.0/8a', '10.0.0.0/a'])
      expect(bad.includes('/') ? parseCidr(bad) : parseIp(bad), bad).to.equal(undefined);
    expect(parseIp('10.0.0.1')?.bytes).to.deep.equal([10, 0, 0, 1]);
  });

  it('parses CIDRs with host bits (masked) and prefixes with leading zeros; rejects spaces', () => {
    expect(parseCidr('10.0.1.1/4')).to.deep.include({ family: 4, bytes: [0, 0, 0, 0], prefix: 4 });
    expect(parseCidr('10.0.0.0/0008')).to.deep.include({ prefix: 8 });
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0',
      ' 10.0.0.0/8',
      '10.0.0.0 /8',
      '10.0.0.0/8 ',
      'fd00::/129',
      '10.0.0.0/-1',
    ])
      expect(parseCidr(bad), bad).to.equal(undefined);
  });

  it('folds IPv4-mapped IPv6 addresses to IPv4 when matching, as net.IPNet.Contains does', () => {
    const v4 = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(v4, parseIp('::ffff:10.1.2.3')!)).to.equal(true);
    expect(cidrContains(v4, parseIp('::10.1.2.3')!)).to.equal(false);
    // Only ::ffff:a.b.c.d is IPv4-mapped: both bytes 10 and 11 must be 0xff.
    expect(cidrContains(v4, parseIp('::ff00:10.1.2.3')!)).to.equal(false);
    expect(cidrContains(v4, parseIp('::ff:10.1.2.3')!)).to.equal(false);
    expect(cidrContains(parseCidr('::ffff:10.0.0.0/104')!, parseIp('10.9.9.9')!)).to.equal(true);
    expect(cidrStrictlyInside(v4, parseCidr('::ffff:10.1.0.0/112')!)).to.equal(true);
    expect(
      cidrStrictlyInside(parseCidr('::ffff:10.0.0.0/104')!, parseCidr('10.1.0.0/16')!),
    ).to.equal(false);
    expect(cidrStrictlyInside(v4, parseCidr('10.0.0.0/8')!)).to.equal(false);
    expect(cidrStrictlyInside(v4, parseCidr('fd00::/64')!)).to.equal(false);
  });
});
