import pc from 'picocolors';

/** Colours for terminal output; a plain palette when colour is off (not a TTY, NO_COLOR). */
export interface Palette {
  readonly allow: (s: string) => string;
  readonly deny: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly warn: (s: string) => string;
}

const plain = (s: string): string => s;

export function palette(color: boolean): Palette {
  if (!color) return { allow: plain, deny: plain, dim: plain, bold: plain, warn: plain };
  const c = pc.createColors(true);
  return { allow: c.green, deny: c.red, dim: c.dim, bold: c.bold, warn: c.yellow };
}
