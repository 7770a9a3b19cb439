/**
 * Text PostgreSQL cannot store is refused at the door: a NUL character or a lone UTF-16
 * surrogate anywhere in the path, the query or a JSON body is a 400, not a database error.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { problem, sendProblem } from "./problem.ts";

/** The path of the first string (or key) that is not storable text, if any. */
export function malformedTextPath(value: unknown, path = "", depth = 0): string | undefined {
  if (typeof value === "string") return storable(value) ? undefined : path || "(value)";
  if (!value || typeof value !== "object" || depth > 32) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!storable(key)) return at;
    const found = malformedTextPath(child, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function storable(text: string): boolean {
  return !text.includes("\u0000") && !LONE_SURROGATE.test(text);
}

/** preValidation hook: 400 `invalid-characters` naming where. */
export async function rejectMalformedText(request: FastifyRequest, reply: FastifyReply) {
  let where: string | undefined;
  try {
    const path = decodeURIComponent(request.url.split("?")[0] ?? "");
    if (!storable(path)) where = "path";
  } catch {
    where = "path";
  }
  where ??= malformedTextPath(request.query, "query") ?? malformedTextPath(request.body, "body");
  if (!where) return;
  return sendProblem(
    reply,
    problem(400, "invalid-characters", `${where} contains a NUL character or invalid UTF-16`, [
      { path: where, message: "a NUL character or a lone surrogate cannot be stored" },
    ]),
  );
}
