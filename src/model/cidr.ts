/*
 * IP and CIDR parsing with the API server's semantics: k8s.io/utils/net ParseIPSloppy and
 * ParseCIDRSloppy (Go 1.16's net parser, which reads IPv4 octets with leading zeros as decimal),
 * and Go's net.IPNet.Contains, which folds IPv4-mapped IPv6 addresses to IPv4. Written out rather
 * than delegated to a general IP library because these corner cases decide whether the API server
 * accepts an ipBlock, and which addresses it covers.
 */

/** An IP address: 4 bytes for IPv4, 16 for IPv6. */
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

const BIG = 0xffffff;

/** Decimal digits at the start of `s`: [value, digits], or undefined (none, or too large). */
function dtoi(s: string): [number, number] | undefined {
  let n = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    if (n >= BIG) return undefined;
  }
  return i === 0 ? undefined : [n, i];
}

/** Hexadecimal digits at the start of `s`, likewise. */
function xtoi(s: string): [number, number] | undefined {
  let n = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const d = parseInt(s.charAt(i), 16);
    if (Number.isNaN(d)) break;
    n = n * 16 + d;
    if (n >= BIG) return undefined;
  }
  return i === 0 ? undefined : [n, i];
}

function parseV4(s: string): number[] | undefined {
  const bytes: number[] = [];
  let rest = s;
  for (let i = 0; i < 4; i++) {
    if (i > 0) {
      if (!rest.startsWith('.')) return undefined;
      rest = rest.slice(1);
    }
    const read = dtoi(rest);
    if (!read || read[0] > 255) return undefined;
    bytes.push(read[0]);
    rest = rest.slice(read[1]);
  }
  return rest.length === 0 ? bytes : undefined;
}

function parseV6(text: string): number[] | undefined {
  const ip = new Array<number>(16).fill(0);
  let s = text;
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    const read = xtoi(s);
    if (!read || read[0] > 0xffff) return undefined;
    const [n, c] = read;
    if (c < s.length && s[c] === '.') {
      // A trailing dotted quad: the low 32 bits, as written (not an IPv4-mapped prefix).
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      const v4 = parseV4(s);
      if (!v4) return undefined;
      ip.splice(i, 4, ...v4);
      s = '';
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(c);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j] ?? 0;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) return undefined;
  return ip;
}

export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseV4(text);
  if (v4) return { family: 4, bytes: v4, text };
  const v6 = parseV6(text);
  return v6 ? { family: 6, bytes: v6, text } : undefined;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const maskText = text.slice(slash + 1);
  const read = dtoi(maskText);
  if (!ip || !read || read[1] !== maskText.length) return undefined;
  const prefix = read[0];
  if (prefix > ip.bytes.length * 8) return undefined;
  const bytes = ip.bytes.map((byte, i) => byte & maskByte(prefix, i));
  return { family: ip.family, bytes, prefix, text };
}

function maskByte(prefix: number, index: number): number {
  const keep = Math.max(0, Math.min(8, prefix - index * 8));
  return (0xff << (8 - keep)) & 0xff;
}

/** Go's IP.To4: the IPv4 form of an IPv4 or IPv4-mapped IPv6 address, else undefined. */
function to4(bytes: readonly number[]): readonly number[] | undefined {
  if (bytes.length === 4) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : undefined;
}

/** Go's net.IPNet.Contains, IPv4-mapped folding included. */
export function cidrContains(cidr: Cidr, ip: { readonly bytes: readonly number[] }): boolean {
  const network = to4(cidr.bytes) ?? cidr.bytes;
  // The mask keeps the CIDR's own length; an IPv6 mask over an IPv4 network uses its last 4 bytes.
  const maskOffset = network.length === 4 && cidr.bytes.length === 16 ? 12 : 0;
  const address = to4(ip.bytes) ?? ip.bytes;
  if (address.length !== network.length) return false;
  for (let i = 0; i < address.length; i++) {
    const m = maskByte(cidr.prefix, i + maskOffset);
    if (((network[i] ?? 0) & m) !== ((address[i] ?? 0) & m)) return false;
  }
  return true;
}

/**
 * True when `inner` is a strict subset of `outer`, as ValidateIPBlock decides it: the outer
 * network contains the inner network address and the inner prefix is longer.
 */
export function cidrStrictlyInside(outer: Cidr, inner: Cidr): boolean {
  return cidrContains(outer, inner) && inner.prefix > outer.prefix;
}

/** The families of a list of addresses, in order 4, 6; unparseable addresses are ignored. */
export function familiesOf(ips: readonly string[]): (4 | 6)[] {
  const found = new Set(ips.map((ip) => parseIp(ip)?.family));
  return ([4, 6] as const).filter((f) => found.has(f));
}
