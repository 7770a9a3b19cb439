/**
 * Keys of the signed tenant context in `tenancy.context_keys` (run as the administrator, who
 * may SET ROLE to the owner). Rotation: add the new key, switch the applications' signing key,
 * remove the old key once the longest signature lifetime has passed.
 */
import { assertSigningKey, hmacPads, type ContextSigningKey } from "./contextSigning.ts";
import { managedRoles, quoteIdent, DEFAULT_ROLE_PREFIX } from "./identifiers.ts";
import { CONTEXT_KEYS, SIGNED_MODE_SQL } from "./signedContextSql.ts";
import { inTransaction, type Queryable } from "./transaction.ts";

/** Raised when the database does not run the signed tenant context. */
export class SignedContextDisabledError extends Error {
  override readonly name = "SignedContextDisabledError";
}

export interface ContextKeyOptions {
  /** Prefix of the managed roles. @default "tenancy" */
  readonly rolePrefix?: string;
}

/**
 * Adds a key, or replaces the key with the same id. Signatures made with a replaced key stop
 * being accepted at once.
 */
export async function putContextKey(
  client: Queryable,
  signingKey: ContextSigningKey,
  options: ContextKeyOptions = {},
): Promise<void> {
  const checked = assertSigningKey(signingKey);
  await asOwner(client, options, () => writeContextKey(client, checked));
}

/** The upsert itself, for a client already acting as the owner role. */
export async function writeContextKey(
  client: Queryable,
  signingKey: ContextSigningKey,
): Promise<void> {
  const { id, key } = assertSigningKey(signingKey);
  const { inner, outer } = hmacPads(key);
  await client.query(
    `INSERT INTO ${CONTEXT_KEYS} (id, inner_pad, outer_pad) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET inner_pad = EXCLUDED.inner_pad,
       outer_pad = EXCLUDED.outer_pad, created_at = now()`,
    [id, inner, outer],
  );
}

/** Removes a key; signatures made with it are refused from then on. Returns whether it existed. */
export async function removeContextKey(
  client: Queryable,
  id: number,
  options: ContextKeyOptions = {},
): Promise<boolean> {
  const result = await asOwner(client, options, () =>
    client.query(`DELETE FROM ${CONTEXT_KEYS} WHERE id = $1`, [id]),
  );
  return (result.rowCount ?? 0) > 0;
}

/** Ids of the installed keys, ascending (never the keys). */
export async function listContextKeyIds(
  client: Queryable,
  options: ContextKeyOptions = {},
): Promise<number[]> {
  const { rows } = await asOwner(client, options, () =>
    client.query<{ id: number }>(`SELECT id FROM ${CONTEXT_KEYS} ORDER BY id`),
  );
  return rows.map((r) => r.id);
}

async function asOwner<T>(
  client: Queryable,
  options: ContextKeyOptions,
  work: () => Promise<T>,
): Promise<T> {
  const owner = managedRoles(options.rolePrefix ?? DEFAULT_ROLE_PREFIX).owner;
  return inTransaction(client, async () => {
    const mode = await client.query<{ signed: boolean }>(SIGNED_MODE_SQL);
    if (!mode.rows[0]?.signed) {
      throw new SignedContextDisabledError(
        "this database does not run the signed tenant context: bootstrap it with signedContext: true (tenancy db bootstrap --signed-context)",
      );
    }
    await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
    const result = await work();
    await client.query("RESET ROLE");
    return result;
  });
}
