/**
 * YAML parsing that keeps positions, so diagnostics point at the exact line and column of a
 * field (or of the key itself, for keys that should not be there).
 */
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
} from "yaml";
import type { Diagnostic } from "./diagnostics.ts";
import { formatPath } from "./diagnostics.ts";

export interface YamlSource {
  readonly file: string;
  /** The plain JavaScript value of the document (undefined when empty or unparseable). */
  readonly value: unknown;
  /** Syntax errors; when non-empty, `value` must not be trusted. */
  readonly syntaxErrors: readonly Diagnostic[];
  /** Position of the node at `path`, or of its nearest existing ancestor. */
  positionOf(
    path: readonly PropertyKey[],
    options?: { key?: boolean },
  ): { line: number; col: number };
}

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document.Parsed = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };
  const syntaxErrors: Diagnostic[] = doc.errors.map((error) => {
    const { line, col } = at(error.pos[0]);
    return { file, line, col, path: "", message: `YAML syntax error: ${firstLine(error.message)}` };
  });
  const value: unknown = syntaxErrors.length === 0 ? doc.toJS({ maxAliasCount: 50 }) : undefined;

  function positionOf(path: readonly PropertyKey[], options: { key?: boolean } = {}) {
    let node: unknown = doc.contents;
    let position = node && hasRange(node) ? at(node.range[0]) : { line: 1, col: 1 };
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && keyText(item.key) === String(segment),
        );
        if (!pair) break;
        if (last && options.key && hasRange(pair.key)) return at(pair.key.range[0]);
        node = pair.value;
        const target = hasRange(node) ? node : pair.key;
        if (hasRange(target)) position = at(target.range[0]);
      } else if (isSeq(node) && typeof segment === "number") {
        node = node.items[segment];
        if (!hasRange(node)) break;
        position = at(node.range[0]);
      } else break;
    }
    return position;
  }
  return { file, value, syntaxErrors, positionOf };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function hasRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === "object" && node !== null && Array.isArray((node as Node).range);
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

/** A diagnostic located at `path` in the source. */
export function diagnosticAt(
  source: YamlSource,
  path: readonly PropertyKey[],
  message: string,
  options: { key?: boolean } = {},
): Diagnostic {
  const { line, col } = source.positionOf(path, options);
  return { file: source.file, line, col, path: formatPath(path), message };
}
