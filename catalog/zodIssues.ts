/**
 * Turns zod issues into located, human diagnostics: "is required" rather than "expected
 * string, received undefined", and a "did you mean" for unknown keys and misspelt modes.
 */
import type { z } from "zod";
import { didYouMean, type Diagnostic } from "./diagnostics.ts";
import { diagnosticAt, type YamlSource } from "./yamlSource.ts";

export function issuesToDiagnostics(
  source: YamlSource,
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = issue.path;
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = keysAt(schema, path);
        for (const key of issue.keys) {
          out.push(
            diagnosticAt(
              source,
              [...path, key],
              `unknown field "${key}"${didYouMean(key, known)}`,
              {
                key: true,
              },
            ),
          );
        }
        break;
      }
      case "invalid_value": {
        const received = valueAt(source.value, path);
        const expected = issue.values.map((v) => JSON.stringify(v)).join(", ");
        const hint =
          typeof received === "string" ? didYouMean(received, issue.values.map(String)) : "";
        out.push(
          diagnosticAt(
            source,
            path,
            `${JSON.stringify(received)} is not one of ${expected}${hint}`,
          ),
        );
        break;
      }
      case "invalid_type": {
        const received = valueAt(source.value, path);
        const message =
          received === undefined
            ? "is required"
            : `must be ${article(issue.expected)}, got ${describe(received)}`;
        out.push(diagnosticAt(source, path, message));
        break;
      }
      case "invalid_union": {
        const { options, note } = issue as { options?: readonly unknown[]; note?: string };
        const received = valueAt(source.value, path);
        const message =
          note === "No matching discriminator" && options
            ? received === undefined
              ? `is required (one of ${options.map((o) => JSON.stringify(o)).join(", ")})`
              : `${JSON.stringify(received)} is not one of ${options.map((o) => JSON.stringify(o)).join(", ")}` +
                (typeof received === "string" ? didYouMean(received, options.map(String)) : "")
            : issue.message;
        out.push(diagnosticAt(source, path, message));
        break;
      }
      default:
        out.push(diagnosticAt(source, path, issue.message));
    }
  }
  return out;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** The minimal view of zod 4 internals needed to walk a schema by path. */
interface SchemaNode {
  readonly def: {
    readonly type: string;
    readonly shape?: Record<string, SchemaNode>;
    readonly innerType?: SchemaNode;
    readonly valueType?: SchemaNode;
    readonly element?: SchemaNode;
    readonly options?: readonly SchemaNode[];
    readonly in?: SchemaNode;
  };
}

function unwrap(node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  while (
    current &&
    ["optional", "default", "nullable", "pipe", "prefault"].includes(current.def.type)
  ) {
    current = current.def.innerType ?? current.def.in;
  }
  return current;
}

/** Keys an object schema accepts at `path` (unions contribute all their options' keys). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes: SchemaNode[] = [schema];
  for (const segment of path) {
    nodes = nodes.flatMap((node) => childrenOf(unwrap(node), segment));
  }
  return nodes.flatMap((node) => objectKeys(unwrap(node)));
}

function childrenOf(node: SchemaNode | undefined, segment: PropertyKey): SchemaNode[] {
  if (!node) return [];
  switch (node.def.type) {
    case "object": {
      const child = node.def.shape?.[String(segment)];
      return child ? [child] : [];
    }
    case "record":
      return node.def.valueType ? [node.def.valueType] : [];
    case "array":
      return node.def.element ? [node.def.element] : [];
    case "union":
      return (node.def.options ?? []).flatMap((option) => childrenOf(unwrap(option), segment));
    default:
      return [];
  }
}

function objectKeys(node: SchemaNode | undefined): string[] {
  if (!node) return [];
  if (node.def.type === "object") return Object.keys(node.def.shape ?? {});
  if (node.def.type === "union")
    return (node.def.options ?? []).flatMap((o) => objectKeys(unwrap(o)));
  return [];
}
