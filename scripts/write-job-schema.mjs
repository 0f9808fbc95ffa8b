// Regenerates docs/job-schema.json from the zod schema. Run after `npx tsc -p tsconfig.json`:
//   node scripts/write-job-schema.mjs
import { writeFileSync } from 'node:fs';
import { jobJsonSchema } from '../dist/src/spec/json-schema.js';

const target = new URL('../docs/job-schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(jobJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
