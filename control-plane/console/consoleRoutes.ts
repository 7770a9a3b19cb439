/**
 * The operator console at /console: a static page and a small script, served by the control
 * plane itself (no CDN, no build step). The files hold no tenant data, so they are served
 * without a token; the script signs in with the operator token, keeps it in the tab's
 * sessionStorage and sends it as a bearer header — never in a URL, a cookie or a log line.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), "static");

const ASSETS: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
};

/** Paths under /console that are served without a token (they carry no data). */
export function isConsoleAsset(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return path === "/console" || path === "/console/" || /^\/console\/[\w.-]+$/.test(path);
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS)) {
    files.set(name, await readFile(join(STATIC_DIR, name)));
  }
  const send = (name: string) => async (_request: unknown, reply: import("fastify").FastifyReply) =>
    reply.headers(SECURITY_HEADERS).type(ASSETS[name]!).send(files.get(name));
  app.get("/console", { schema: { hide: true } }, send("index.html"));
  app.get("/console/", { schema: { hide: true } }, send("index.html"));
  for (const name of Object.keys(ASSETS)) {
    if (name !== "index.html") app.get(`/console/${name}`, { schema: { hide: true } }, send(name));
  }
}
