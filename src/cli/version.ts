import { createRequire } from 'node:module';

/** polygraph's version, from its package.json. */
export function polygraphVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}
