import ipaddr from 'ipaddr.js';

/** An IP address as bytes (4 or 16), which makes prefix comparison cheap. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
  readonly text: string;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address (host bits cleared, as the API server's parser does). */
  readonly bytes: readonly number[];
  readonly prefix: number;
  readonly text: string;
}

/** Go's net.ParseIP accepts leading zeros in IPv4 octets as decimal ("sloppy" parsing). */
function normaliseV4(text: string): string {
  return /^\d+\.\d+\.\d+\.\d+$/.test(text)
    ? text
        .split('.')
        .map((octet) => String(Number(octet)))
        .join('.')
    : text;
}

export function parseIp(text: string): IpAddress | undefined {
  const candidate = normaliseV4(text.trim());
  if (ipaddr.IPv4.isValidFourPartDecimal(candidate)) {
    return { family: 4, bytes: ipaddr.IPv4.parse(candidate).toByteArray(), text };
  }
  if (!candidate.includes(':') || !ipaddr.IPv6.isValid(candidate) || candidate.includes('%'))
    return undefined;
  const v6 = ipaddr.IPv6.parse(candidate);
  return { family: 6, bytes: v6.toByteArray(), text };
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  const bytes = ip.bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return { family: ip.family, bytes, prefix, text };
}

export function cidrContains(cidr: Cidr, ip: { family: 4 | 6; bytes: readonly number[] }): boolean {
  if (cidr.family !== ip.family) return false;
  const full = Math.floor(cidr.prefix / 8);
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((ip.bytes[full] ?? 0) & mask) === cidr.bytes[full];
}

/** True when `inner` is a strict subset of `outer` (the API server's rule for `except`). */
export function cidrStrictlyInside(outer: Cidr, inner: Cidr): boolean {
  return cidrContains(outer, inner) && inner.prefix > outer.prefix;
}
