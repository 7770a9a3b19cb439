/** Admin connection URLs, built from a credentials document (as RDS stores it in Secrets Manager). */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** `postgres://user:pass@host:port/db?sslmode=verify-full` with every part escaped. */
export function postgresUrl(
  endpoint: PostgresEndpoint,
  credentials: { readonly username: string; readonly password: string },
  sslmode: "verify-full" | "require" | "disable" = "verify-full",
): string {
  const url = new URL("postgres://localhost");
  url.hostname = endpoint.host;
  url.port = String(endpoint.port);
  url.pathname = `/${encodeURIComponent(endpoint.database)}`;
  url.username = encodeURIComponent(credentials.username);
  url.password = encodeURIComponent(credentials.password);
  url.searchParams.set("sslmode", sslmode);
  return url.toString();
}

/** Parses the `{"username","password"}` JSON RDS keeps in a managed master secret. */
export function parseCredentials(secretString: string): { username: string; password: string } {
  const parsed = JSON.parse(secretString) as { username?: unknown; password?: unknown };
  if (typeof parsed.username !== "string" || typeof parsed.password !== "string") {
    throw new Error(
      "database credentials secret must hold a JSON object with username and password",
    );
  }
  return { username: parsed.username, password: parsed.password };
}

/**
 * Admin URL of a server whose master credentials live in Secrets Manager. Read at deploy
 * time through the (parent's) AWS provider; the result is a secret Output.
 */
export function adminUrlFromSecret(
  secretArn: pulumi.Input<string>,
  endpoint: pulumi.Input<PostgresEndpoint>,
  opts: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
  const aws = awsSdk();
  const secret = aws.secretsmanager.getSecretVersionOutput({ secretId: secretArn }, opts);
  return pulumi.secret(
    pulumi
      .all([secret.secretString, pulumi.output(endpoint)])
      .apply(([secretString, ep]) =>
        postgresUrl(ep as PostgresEndpoint, parseCredentials(secretString)),
      ),
  );
}
