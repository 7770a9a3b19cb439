/**
 * Bearer-token authentication. The operator token (`TENANCY_API_TOKEN`) may do everything;
 * a tenant token (`tnt_<slug>.<hmac>`, minted from the operator token) may only read its own
 * tenant — the tenant comes from the verified token, never from the request. Without a token
 * configured the service refuses to start, unless explicitly started in open dev mode.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { isConsoleAsset } from "../console/consoleRoutes.ts";
import { problem, sendProblem } from "./problem.ts";

export type Principal =
  { readonly kind: "operator" } | { readonly kind: "tenant"; readonly slug: string };

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthOptions {
  /** The operator token; undefined only in open dev mode. */
  readonly operatorToken?: string;
  /** Open dev mode: every request is an operator. Never the default. */
  readonly insecureOpen?: boolean;
}

export function tenantToken(operatorToken: string, slug: string): string {
  const mac = createHmac("sha256", operatorToken).update(`tenant:${slug}`).digest("base64url");
  return `tnt_${slug}.${mac}`;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function authenticate(
  options: AuthOptions,
  header: string | undefined,
): Principal | undefined {
  if (options.insecureOpen) return { kind: "operator" };
  // The scheme is case-insensitive (RFC 7235 §2.1): "Bearer", "bearer", "BEARER".
  const token = /^bearer +([\x21-\x7e]{1,512})$/i.exec(header ?? "")?.[1];
  if (!token || !options.operatorToken) return undefined;
  if (equal(token, options.operatorToken)) return { kind: "operator" };
  const slug = /^tnt_([a-z0-9-]{1,30})\./.exec(token)?.[1];
  if (slug && equal(token, tenantToken(options.operatorToken, slug)))
    return { kind: "tenant", slug };
  return undefined;
}

/** onRequest hook: 401 without a valid token (health checks and the console's files excepted). */
export function authHook(options: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url === "/healthz" || isConsoleAsset(request.url)) return;
    const principal = authenticate(options, request.headers.authorization);
    if (!principal) {
      reply.header("www-authenticate", 'Bearer realm="tenancy"');
      return sendProblem(
        reply,
        problem(401, "unauthenticated", "a valid bearer token is required"),
      );
    }
    request.principal = principal;
  };
}

/** Guards a route: operators always; a tenant token only for its own slug when allowed. */
export function requireAccess(
  request: FastifyRequest,
  reply: FastifyReply,
  slug?: string,
): boolean {
  const principal = request.principal;
  if (principal?.kind === "operator") return true;
  if (principal?.kind === "tenant" && slug !== undefined && principal.slug === slug) return true;
  sendProblem(reply, problem(403, "forbidden", "this token may not perform this request"));
  return false;
}
