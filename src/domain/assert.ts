import { InternalError } from './errors.js';

/** Exhaustiveness check for discriminated unions: unreachable when every case is handled. */
export function assertNever(value: never, what = 'value'): never {
  throw new InternalError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
