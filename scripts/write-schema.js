/* global URL, console */
// Writes the published JSON Schemas from their zod definitions (npm run schema):
// schemas/scenario.schema.json (the scenario format) and schemas/result.schema.json (the result
// document that check -o json prints, --report json=FILE writes and polygraph report reads).
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/dsl/schema.ts';
import { resultJsonSchema } from '../src/report/document.ts';

for (const [name, schema] of [
  ['scenario.schema.json', scenarioJsonSchema()],
  ['result.schema.json', resultJsonSchema()],
]) {
  const target = new URL(`../schemas/${name}`, import.meta.url);
  writeFileSync(target, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${target.pathname}`);
}
