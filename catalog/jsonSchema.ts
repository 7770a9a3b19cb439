/**
 * JSON Schemas of the catalog files, generated from the zod schemas, for editors
 * (`# yaml-language-server: $schema=...` at the top of each YAML file).
 */
import { z } from "zod";
import {
  RESERVED_SLUGS,
  SLUG_MAX_LENGTH,
  SLUG_MIN_LENGTH,
  SLUG_PATTERN,
  slugSchema,
} from "../contract/slug.ts";
import { tenantFileSchema, tiersFileSchema } from "./schema.ts";

export const SCHEMA_FILES = {
  tenant: "tenant.schema.json",
  tiers: "tiers.schema.json",
} as const;

function generate(schema: z.ZodType, title: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    override: (ctx) => {
      // The slug rules live in a refinement; spell them out for editors.
      if (ctx.zodSchema === slugSchema) {
        ctx.jsonSchema.pattern = SLUG_PATTERN.source;
        ctx.jsonSchema.minLength = SLUG_MIN_LENGTH;
        ctx.jsonSchema.maxLength = SLUG_MAX_LENGTH;
        ctx.jsonSchema.not = { enum: [...RESERVED_SLUGS].sort() };
      }
    },
  });
  return { ...json, title };
}

/** Both schemas, keyed by file name. Deterministic output (checked in under schemas/). */
export function catalogJsonSchemas(): Record<string, Record<string, unknown>> {
  return {
    [SCHEMA_FILES.tenant]: generate(tenantFileSchema, "Tenant"),
    [SCHEMA_FILES.tiers]: generate(tiersFileSchema, "Tiers"),
  };
}
