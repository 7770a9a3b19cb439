/**
 * Property-level differences between two sets of resource inputs: the changed paths with old
 * and new values. Secret inputs never show their values.
 */

/** Shown instead of a secret value. */
export const SECRET_MASK = "[secret]";

export interface PropertyChange {
  /** Dotted path; array items as `[i]`; keys that are not identifiers as `["key"]`. */
  readonly path: string;
  /** Absent when the property is new. */
  readonly old?: unknown;
  /** Absent when the property is removed. */
  readonly new?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function join(base: string, key: string): string {
  const part = IDENTIFIER.test(key) ? key : `[${JSON.stringify(key)}]`;
  return base === "" ? part : part.startsWith("[") ? `${base}${part}` : `${base}.${part}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function equal(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Changes between `olds` and `news`, leaves first, sorted by path. Objects are compared key by
 * key, arrays item by item when their lengths agree (otherwise as a whole). Keys starting with
 * `__` are engine bookkeeping and ignored. Values under a key of `secretKeys` are masked.
 */
export function diffInputs(
  olds: Readonly<Record<string, unknown>>,
  news: Readonly<Record<string, unknown>>,
  secretKeys: ReadonlySet<string> = new Set(),
): PropertyChange[] {
  const changes: PropertyChange[] = [];
  const walk = (path: string, a: unknown, b: unknown, secret: boolean) => {
    if (equal(a, b)) return;
    if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) {
        if (key.startsWith("__")) continue;
        walk(join(path, key), a[key], b[key], secret || (path === "" && secretKeys.has(key)));
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((item, i) => walk(`${path}[${i}]`, item, b[i], secret));
      return;
    }
    changes.push({
      path,
      ...(a === undefined ? {} : { old: secret ? SECRET_MASK : a }),
      ...(b === undefined ? {} : { new: secret ? SECRET_MASK : b }),
    });
  };
  walk("", olds, news, false);
  return changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Inputs with secret keys masked (for creates and deletes, which show every input). */
export function maskSecrets(
  inputs: Readonly<Record<string, unknown>>,
  secretKeys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if (key.startsWith("__")) continue;
    out[key] = secretKeys.includes(key) ? SECRET_MASK : value;
  }
  return out;
}
