/**
 * Domain errors of the tenant service. Mapped to HTTP status and problem+json in one place
 * (http/problem.ts); nothing else in the service knows about HTTP.
 */
export type DomainErrorKind =
  | "invalid" // 422: the request is well-formed but breaks a catalog rule
  | "not-found" // 404
  | "conflict" // 409: exists already, idempotency key reused, operation in progress
  | "unsupported"; // 409: understood, but this product version cannot do it yet

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable machine-readable reason, e.g. `tenant-exists`. */
    readonly reason: string,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = "DomainError";
  }
}
