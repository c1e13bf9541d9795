/* global URL, console */
// Writes schemas/scenario.schema.json from the zod schema (npm run schema).
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/dsl/schema.ts';

const target = new URL('../schemas/scenario.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
