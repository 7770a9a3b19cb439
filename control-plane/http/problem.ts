/**
 * Errors as RFC 9457 `application/problem+json`, mapped from domain errors in one place.
 * Every problem carries a stable `reason` callers can switch on.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { DomainError, type DomainErrorKind, type FieldError } from "../service/domainErrors.ts";
import { isDatabaseUnavailable } from "../store/connections.ts";

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly reason: string;
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
}

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 422,
  "not-found": 404,
  conflict: 409,
  unsupported: 409,
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Seconds a client is asked to wait when the database is away. */
export const RETRY_AFTER_SECONDS = 5;

/** The answer while the control database cannot be reached. */
export function sendDatabaseUnavailable(reply: FastifyReply): FastifyReply {
  reply.header("retry-after", String(RETRY_AFTER_SECONDS));
  return sendProblem(
    reply,
    problem(
      503,
      "database-unavailable",
      "the control-plane database cannot be reached; retry shortly (with the same Idempotency-Key)",
    ),
  );
}

export function problem(
  status: number,
  reason: string,
  detail?: string,
  errors?: readonly FieldError[],
): Problem {
  return {
    type: `urn:tenancy:problem:${reason}`,
    title: TITLES[status] ?? "Error",
    status,
    reason,
    ...(detail ? { detail } : {}),
    ...(errors?.length ? { errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.status(body.status).type("application/problem+json").send(body);
}

/** Where server errors are reported; the default writes one line with the stack to stderr. */
export type ServerErrorLog = (error: unknown, request: FastifyRequest, status: number) => void;

export const logToStderr: ServerErrorLog = (error, request, status) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`tenancy: ${status} on ${request.method} ${request.url}: ${detail}`);
};

/**
 * Fastify error handler: every error leaves as problem+json; internals are logged (every 5xx,
 * through `log`, whether or not the Fastify logger is on), never sent.
 */
export function problemErrorHandler(log: ServerErrorLog = logToStderr) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
    handleError(error, request, reply, log);
}

function handleError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  log: ServerErrorLog,
) {
  if (error instanceof DomainError) {
    return sendProblem(
      reply,
      problem(STATUS[error.kind], error.reason, error.message, error.errors),
    );
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const { validation, validationContext } = error as unknown as ZodValidationFailure;
    const errors = validation.map((issue) => ({
      path: [validationContext, ...issue.instancePath.split("/").filter(Boolean)].join("."),
      message:
        issue.params && typeof issue.params === "object" && "issue" in issue.params
          ? describeIssue(issue.params.issue)
          : (issue.message ?? "invalid"),
    }));
    return sendProblem(
      reply,
      problem(400, "invalid-request", "the request does not match the API schema", errors),
    );
  }
  if (isDatabaseUnavailable(error)) {
    log(error, request, 503);
    return sendDatabaseUnavailable(reply);
  }
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    log(error, request, 500);
    return sendProblem(
      reply,
      problem(500, "internal-error", "the server failed; the request may be retried"),
    );
  }
  const reasons: Record<string, string> = {
    FST_ERR_CTP_BODY_TOO_LARGE: "body-too-large",
    FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported-media-type",
    FST_ERR_CTP_EMPTY_JSON_BODY: "empty-body",
    FST_ERR_CTP_INVALID_JSON_BODY: "malformed-json",
  };
  const reason =
    reasons[error.code] ??
    (error.code === "FST_ERR_VALIDATION" ? "invalid-request" : "bad-request");
  return sendProblem(reply, problem(status, reason, error.message));
}

/** The shape fastify-type-provider-zod gives validation failures. */
interface ZodValidationFailure {
  readonly validationContext: string;
  readonly validation: readonly { instancePath: string; message?: string; params?: unknown }[];
}

function describeIssue(issue: unknown): string {
  if (issue && typeof issue === "object") {
    const { code, keys, message } = issue as { code?: string; keys?: string[]; message?: string };
    if (code === "unrecognized_keys" && keys) return `unknown field(s): ${keys.join(", ")}`;
    if (message) return message;
  }
  return "invalid";
}
