/** Creating and converging login roles (cluster-wide objects) idempotently. */
import { quoteIdent, quoteLiteral } from "./identifiers.ts";
import type { Queryable } from "./transaction.ts";

/** Role attributes written as SQL keywords, e.g. `["LOGIN", "NOBYPASSRLS"]`. */
export type RoleAttribute =
  | "LOGIN"
  | "NOLOGIN"
  | "INHERIT"
  | "NOINHERIT"
  | "NOSUPERUSER"
  | "NOCREATEDB"
  | "NOCREATEROLE"
  | "NOREPLICATION"
  | "BYPASSRLS"
  | "NOBYPASSRLS";

export interface RoleSpec {
  readonly name: string;
  readonly attributes: readonly RoleAttribute[];
  /** Set when given; an existing password is kept otherwise. */
  readonly password?: string;
  /** `CONNECTION LIMIT`; -1 means none. @default unchanged (new roles: -1) */
  readonly connectionLimit?: number;
}

/**
 * Creates the role, or re-asserts its attributes when it exists (fixing drift such as a
 * role someone made BYPASSRLS by hand). Returns whether it was created.
 */
export async function ensureRole(client: Queryable, spec: RoleSpec): Promise<boolean> {
  const exists = await roleExists(client, spec.name);
  const clauses = [...spec.attributes];
  const extra: string[] = [];
  if (spec.connectionLimit !== undefined) {
    if (!Number.isInteger(spec.connectionLimit) || spec.connectionLimit < -1) {
      throw new Error(`invalid connection limit ${spec.connectionLimit} for role ${spec.name}`);
    }
    extra.push(`CONNECTION LIMIT ${spec.connectionLimit}`);
  }
  if (spec.password !== undefined) extra.push(`PASSWORD ${quoteLiteral(spec.password)}`);
  const tail = [...clauses, ...extra].join(" ");
  await client.query(`${exists ? "ALTER" : "CREATE"} ROLE ${quoteIdent(spec.name)} ${tail}`);
  return !exists;
}

/** Whether a role of that name exists. */
export async function roleExists(client: Queryable, name: string): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [
    name,
  ]);
  return rows.length > 0;
}

/**
 * `ALTER ROLE r SET statement_timeout = '<n>ms'` (values cannot be bind parameters; `ms` is a
 * validated integer).
 */
export async function setRoleStatementTimeout(
  client: Queryable,
  role: string,
  timeoutMs: number,
): Promise<void> {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new Error(`invalid statement timeout ${timeoutMs} ms for role ${role}`);
  }
  await client.query(
    `ALTER ROLE ${quoteIdent(role)} SET statement_timeout = ${quoteLiteral(`${timeoutMs}ms`)}`,
  );
}

/** `ALTER ROLE r SET search_path = "schema"`. */
export async function setRoleSearchPath(
  client: Queryable,
  role: string,
  schema: string,
): Promise<void> {
  await client.query(`ALTER ROLE ${quoteIdent(role)} SET search_path = ${quoteIdent(schema)}`);
}

/**
 * Lets the connected (non-superuser) administrator `SET ROLE` to `role`, needed to create
 * objects owned by the owner role and to verify as the audit role. Superusers need nothing.
 */
export async function grantSetRoleToCurrentUser(client: Queryable, role: string): Promise<void> {
  const { rows } = await client.query<{ su: boolean; member: boolean; v: number }>(
    `SELECT r.rolsuper AS su, pg_catalog.pg_has_role(current_user, $1, 'MEMBER') AS member,
            current_setting('server_version_num')::int AS v
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
    [role],
  );
  const me = rows[0];
  if (!me || me.su || me.member) return;
  const options = me.v >= 160000 ? " WITH INHERIT FALSE, SET TRUE" : "";
  await client.query(`GRANT ${quoteIdent(role)} TO CURRENT_USER${options}`);
}
