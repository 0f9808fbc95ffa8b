// The job file's JSON Schema, generated from the zod schema so the two cannot drift; editors (the
// YAML language server, VS Code) use it for completion and checks. Pure.
import { z } from 'zod';
import { envSchema, jobSchema } from './schema.js';

export const JOB_SCHEMA_ID = 'urn:wharf:job-schema:v1';

/** The job file as JSON Schema (draft 2020-12). A fresh object on every call. */
export function jobJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(jobSchema, {
    target: 'draft-2020-12',
    io: 'input',
    // Refinements are invisible to the generator; these two can be said in JSON Schema.
    override: (ctx) => {
      if (ctx.zodSchema === jobSchema.shape.tasks) ctx.jsonSchema.minProperties = 1;
      if (ctx.zodSchema === envSchema) {
        const names = ctx.jsonSchema.propertyNames;
        if (typeof names === 'object') names.not = { pattern: '^WHARF_' };
      }
    },
  }) as Record<string, unknown>;
  const { $schema, title, description, ...rest } = generated;
  // Identity first, for people reading the file.
  return { $schema, $id: JOB_SCHEMA_ID, title, description, ...rest };
}
