/** Fixed-size bit sets over endpoint indexes, stored as 32-bit words. */
export type Bits = Uint32Array;

export function wordsFor(size: number): number {
  return (size + 31) >>> 5;
}

export function emptyBits(size: number): Bits {
  return new Uint32Array(wordsFor(size));
}

export function fullBits(size: number): Bits {
  const bits = new Uint32Array(wordsFor(size)).fill(0xffffffff);
  const spare = bits.length * 32 - size;
  if (spare > 0 && bits.length > 0) bits[bits.length - 1] = 0xffffffff >>> spare;
  return bits;
}

export function hasBit(bits: Bits, index: number): boolean {
  return ((bits[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
}

export function setBit(bits: Bits, index: number): void {
  const word = index >>> 5;
  bits[word] = (bits[word] ?? 0) | (1 << (index & 31));
}

/** target |= a & b, word by word. */
export function orAnd(target: Bits, a: Bits, b: Bits): void {
  for (let i = 0; i < target.length; i++)
    target[i] = (target[i] ?? 0) | ((a[i] ?? 0) & (b[i] ?? 0));
}

export function or(target: Bits, a: Bits): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) | (a[i] ?? 0);
}

/** Number of bits set in a 32-bit word. */
export function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
