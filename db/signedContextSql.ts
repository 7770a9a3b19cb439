/**
 * The signed tenant context, database side (opt-in: bootstrap `signedContext: true`):
 *
 * - `tenancy.context_keys`: the HMAC keys (as inner/outer pads), owned by the owner role, no
 *   privilege for anyone else — the application role cannot read it. Its existence is what
 *   turns signed mode on for the database (protect and audit look for it).
 * - `tenancy.signed_tenant_id()` / `signed_tenant_text()`: SECURITY DEFINER (owner), pinned
 *   `search_path`, executable by every role (policies call them). They return `app.tenant_id`
 *   only when `app.tenant_sig` is a valid, unexpired signature of exactly that text by a key
 *   of the table; NULL otherwise (fail closed, never an error, never the key).
 * - `tenancy.sign_tenant_context(tenant, ttl_seconds)`: signs with the newest key; SECURITY
 *   INVOKER and EXECUTE revoked from PUBLIC, so only the owner (purge) can use it.
 *
 * The signature is compared by hashing both sides again (no early-exit comparison of the MAC
 * itself), and the expiry is checked against the transaction's start time (`now()`).
 */
import { TENANT_CONTEXT_SETTING } from "./contextSql.ts";
import {
  MAX_CONTEXT_KEY_BYTES,
  MAX_CONTEXT_KEY_ID,
  SIGNATURE_VERSION,
  TENANT_SIGNATURE_SETTING,
} from "./contextSigning.ts";
import { PLATFORM_SCHEMA, quoteIdent, quoteLiteral, quoteQualified } from "./identifiers.ts";

/** Name of the key table in the platform schema. */
export const CONTEXT_KEYS_TABLE = "context_keys";

/** `"tenancy"."context_keys"`. */
export const CONTEXT_KEYS = quoteQualified(PLATFORM_SCHEMA, CONTEXT_KEYS_TABLE);

/** The verifier functions (names in the platform schema) and what they return. */
export const SIGNED_CONTEXT_FUNCTIONS = {
  uuid: "signed_tenant_id",
  text: "signed_tenant_text",
} as const;

/** The owner-only signing function, quoted for a call: `${SIGN_FUNCTION_CALL}(tenant, ttl)`. */
export const SIGN_FUNCTION_CALL = quoteQualified(PLATFORM_SCHEMA, "sign_tenant_context");

/** `search_path` every function here runs with. */
export const PINNED_SEARCH_PATH = "search_path=pg_catalog, pg_temp";

const platform = quoteIdent(PLATFORM_SCHEMA);
const tenantSetting = quoteLiteral(TENANT_CONTEXT_SETTING);
const signatureSetting = quoteLiteral(TENANT_SIGNATURE_SETTING);
/**
 * `v1.<1-9 digits>.<1-12 digits>.<64 lower-case hex>`, checked with translate() and lengths:
 * PostgreSQL's regex engine rebuilds its automaton states on every match, and a regex with
 * `{64}` cost ~50 µs per call, more than the whole HMAC.
 */
const SHAPE_CHECKS = [
  `sig IS NULL`,
  `split_part(sig, '.', 1) <> ${quoteLiteral(SIGNATURE_VERSION)}`,
  `translate(sig, '0123456789abcdef', '') <> ${quoteLiteral(`${SIGNATURE_VERSION.replace(/[0-9]/g, "")}...`)}`,
  `length(split_part(sig, '.', 2)) NOT BETWEEN 1 AND 9`,
  `translate(split_part(sig, '.', 2), '0123456789', '') <> ''`,
  `length(split_part(sig, '.', 3)) NOT BETWEEN 1 AND 12`,
  `translate(split_part(sig, '.', 3), '0123456789', '') <> ''`,
  `length(split_part(sig, '.', 4)) <> 64`,
].join("\n     OR ");
const UUID_CHECK = `pg_catalog.translate(tenant, '123456789abcdefABCDEF', '000000000000000000000')
       <> '00000000-0000-0000-0000-000000000000'`;

/** HMAC-SHA256 of the text expression `message` with the pads of record `k`, as bytea. */
function hmacSql(k: string, message: string): string {
  return `sha256(${k}.outer_pad || sha256(${k}.inner_pad || convert_to(${message}, 'UTF8')))`;
}

/**
 * The body of a verifier: the same check for both return types; the uuid form also refuses
 * a tenant id that is not a uuid (as current_tenant_id() does).
 */
export function verifierBody(returns: "uuid" | "text"): string {
  return `
DECLARE
  tenant text := current_setting(${tenantSetting}, true);
  sig text := current_setting(${signatureSetting}, true);
  k record;
BEGIN
  IF tenant IS NULL OR tenant = ''
     OR ${SHAPE_CHECKS} THEN
    RETURN NULL;
  END IF;${returns === "uuid" ? `\n  IF ${UUID_CHECK} THEN\n    RETURN NULL;\n  END IF;` : ""}
  IF split_part(sig, '.', 3)::bigint <= extract(epoch FROM now()) THEN
    RETURN NULL; -- expired
  END IF;
  SELECT c.inner_pad, c.outer_pad INTO k FROM ${CONTEXT_KEYS} c
   WHERE c.id = split_part(sig, '.', 2)::integer;
  IF NOT FOUND THEN
    RETURN NULL; -- unknown (or removed) key
  END IF;
  IF sha256(${hmacSql("k", "left(sig, -65) || '.' || tenant")})
     = sha256(decode(right(sig, 64), 'hex')) THEN
    RETURN tenant${returns === "uuid" ? "::uuid" : ""};
  END IF;
  RETURN NULL;
END
`;
}

function verifierSql(returns: "uuid" | "text"): string {
  const fn = `${platform}.${quoteIdent(SIGNED_CONTEXT_FUNCTIONS[returns])}()`;
  return `
CREATE OR REPLACE FUNCTION ${fn} RETURNS ${returns}
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp AS $fn$${verifierBody(returns)}$fn$;
REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${fn} TO PUBLIC;
COMMENT ON FUNCTION ${fn} IS
  'Signed tenant context: ${TENANT_CONTEXT_SETTING} when ${TENANT_SIGNATURE_SETTING} is a valid unexpired signature of it; NULL otherwise.';`;
}

/** DDL run as the owner role when signed mode is turned on (idempotent). */
export const SIGNED_CONTEXT_SQL = `
CREATE TABLE IF NOT EXISTS ${CONTEXT_KEYS} (
  id integer PRIMARY KEY CHECK (id BETWEEN 1 AND ${MAX_CONTEXT_KEY_ID}),
  inner_pad bytea NOT NULL CHECK (octet_length(inner_pad) = ${MAX_CONTEXT_KEY_BYTES}),
  outer_pad bytea NOT NULL CHECK (octet_length(outer_pad) = ${MAX_CONTEXT_KEY_BYTES}),
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON ${CONTEXT_KEYS} FROM PUBLIC;
COMMENT ON TABLE ${CONTEXT_KEYS} IS
  'HMAC keys of the signed tenant context (inner/outer pads). Readable by the owner role only.';
${verifierSql("uuid")}
${verifierSql("text")}
CREATE OR REPLACE FUNCTION ${SIGN_FUNCTION_CALL}(tenant text, ttl_seconds integer)
RETURNS text LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  k record;
  header text;
BEGIN
  SELECT c.id, c.inner_pad, c.outer_pad INTO k FROM ${CONTEXT_KEYS} c ORDER BY c.id DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  header := '${SIGNATURE_VERSION}.' || k.id || '.' || (floor(extract(epoch FROM now()))::bigint + ttl_seconds);
  RETURN header || '.' || encode(${hmacSql("k", "header || '.' || tenant")}, 'hex');
END
$fn$;
REVOKE ALL ON FUNCTION ${SIGN_FUNCTION_CALL}(text, integer) FROM PUBLIC;
`;

/** Objects removed when signed mode is turned off (after the policies went back to plain). */
export const DROP_SIGNED_CONTEXT_SQL = `
DROP FUNCTION IF EXISTS ${SIGN_FUNCTION_CALL}(text, integer);
DROP FUNCTION IF EXISTS ${platform}.${quoteIdent(SIGNED_CONTEXT_FUNCTIONS.uuid)}();
DROP FUNCTION IF EXISTS ${platform}.${quoteIdent(SIGNED_CONTEXT_FUNCTIONS.text)}();
`;

/** True when the connected database runs the signed tenant context (its key table exists). */
export const SIGNED_MODE_SQL = `SELECT pg_catalog.to_regclass(${quoteLiteral(`${PLATFORM_SCHEMA}.${CONTEXT_KEYS_TABLE}`)}) IS NOT NULL AS signed`;
