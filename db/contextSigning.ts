/**
 * The signed tenant context, application side: an HMAC-SHA256 over the tenant id and an
 * expiry, set next to `app.tenant_id` as `app.tenant_sig`. In a database whose shared tables
 * use the signed policy (bootstrap `signedContext: true`), the policy accepts the tenant id
 * only with a valid, unexpired signature made with a key of `tenancy.context_keys`, which the
 * application role cannot read — so an SQL injection that calls `set_config('app.tenant_id',
 * <another id>)` sees nothing.
 *
 * Signature text: `v1.<keyId>.<expiresUnixSeconds>.<hex HMAC-SHA256>`, the HMAC taken over
 * `v1.<keyId>.<expiresUnixSeconds>.<tenant id exactly as set>` (UTF-8). The database checks it
 * in `tenancy.signed_tenant_id()` / `signed_tenant_text()` (signedContextSql.ts).
 */
import { createHmac } from "node:crypto";

/** The GUC carrying the signature of the tenant context. */
export const TENANT_SIGNATURE_SETTING = "app.tenant_sig";

/** Signature format version (first field of the signature text). */
export const SIGNATURE_VERSION = "v1";

/** Largest key id (fits the key table's integer column and the 9 digits the database parses). */
export const MAX_CONTEXT_KEY_ID = 999_999_999;

/** Default lifetime of a signature made by `withTenant`. */
export const DEFAULT_SIGNATURE_TTL_SECONDS = 60;

/** Shortest key accepted (bytes): HMAC-SHA256 keys shorter than the hash weaken it. */
export const MIN_CONTEXT_KEY_BYTES = 32;

/** HMAC-SHA256's block size: longer keys are refused rather than hashed. */
export const MAX_CONTEXT_KEY_BYTES = 64;

/** A signing key: its id in `tenancy.context_keys` and its secret bytes. */
export interface ContextSigningKey {
  readonly id: number;
  readonly key: Uint8Array;
}

/** Raised for a malformed key, key id, tenant id or lifetime. */
export class ContextSigningError extends Error {
  override readonly name = "ContextSigningError";
}

/** Throws unless `key` is a usable signing key; returns it. */
export function assertSigningKey(key: unknown): ContextSigningKey {
  const candidate = key as Partial<ContextSigningKey> | null | undefined;
  const id = candidate?.id;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > MAX_CONTEXT_KEY_ID) {
    throw new ContextSigningError(
      `signing key id must be an integer 1..${MAX_CONTEXT_KEY_ID}, got ${String(id)}`,
    );
  }
  const bytes = candidate?.key;
  if (!(bytes instanceof Uint8Array)) {
    throw new ContextSigningError("signing key must be a Uint8Array (e.g. a Buffer)");
  }
  if (bytes.length < MIN_CONTEXT_KEY_BYTES || bytes.length > MAX_CONTEXT_KEY_BYTES) {
    throw new ContextSigningError(
      `signing key must be ${MIN_CONTEXT_KEY_BYTES}..${MAX_CONTEXT_KEY_BYTES} bytes, got ${bytes.length}`,
    );
  }
  return { id, key: bytes };
}

export interface SignOptions {
  /** Lifetime in seconds. @default 60 */
  readonly ttlSeconds?: number;
  /** The clock, in milliseconds since the epoch. @default Date.now() */
  readonly nowMs?: number;
}

/**
 * The signature of `tenantId` (the exact text set as `app.tenant_id`), valid until
 * now + ttlSeconds by the database's clock (transaction start time).
 */
export function signTenantContext(
  tenantId: string,
  signingKey: ContextSigningKey,
  options: SignOptions = {},
): string {
  if (typeof tenantId !== "string" || tenantId.length === 0) {
    throw new ContextSigningError("tenant id must be a non-empty string");
  }
  const ttl = options.ttlSeconds ?? DEFAULT_SIGNATURE_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) {
    throw new ContextSigningError(`signature ttlSeconds must be an integer 1..86400, got ${ttl}`);
  }
  const expires = Math.floor((options.nowMs ?? Date.now()) / 1000) + ttl;
  return signWithExpiry(tenantId, signingKey, expires);
}

/** The signature with an explicit expiry (Unix seconds); tests use it to make expired ones. */
export function signWithExpiry(
  tenantId: string,
  signingKey: ContextSigningKey,
  expiresUnixSeconds: number,
): string {
  const { id, key } = assertSigningKey(signingKey);
  if (!Number.isInteger(expiresUnixSeconds) || expiresUnixSeconds < 0) {
    throw new ContextSigningError(`invalid expiry ${expiresUnixSeconds}`);
  }
  const header = `${SIGNATURE_VERSION}.${id}.${expiresUnixSeconds}`;
  const mac = createHmac("sha256", key).update(`${header}.${tenantId}`, "utf8").digest("hex");
  return `${header}.${mac}`;
}

/**
 * The key as the database stores it: HMAC's inner and outer padded keys (key XOR 0x36 and
 * XOR 0x5c over one 64-byte block), so the check needs only PostgreSQL's built-in sha256.
 */
export function hmacPads(key: Uint8Array): { inner: Buffer; outer: Buffer } {
  const block = Buffer.alloc(MAX_CONTEXT_KEY_BYTES);
  Buffer.from(key).copy(block);
  const inner = Buffer.alloc(MAX_CONTEXT_KEY_BYTES);
  const outer = Buffer.alloc(MAX_CONTEXT_KEY_BYTES);
  for (let i = 0; i < MAX_CONTEXT_KEY_BYTES; i++) {
    inner[i] = (block[i] ?? 0) ^ 0x36;
    outer[i] = (block[i] ?? 0) ^ 0x5c;
  }
  return { inner, outer };
}
