/**
 * Keeps ONE pull-request comment up to date: finds the comment carrying the marker (every page
 * of the PR's comments), updates it, or creates it when there is none. Also appends the body to
 * the job summary. Used by .github/workflows/tenancy.yml:
 *
 *   node --import tsx scripts/ci/prComment.ts tenancy-diff.md
 *
 * Environment (set by GitHub Actions): GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name),
 * GITHUB_EVENT_PATH (the pull_request event, for the PR number) or PR_NUMBER,
 * GITHUB_API_URL (default https://api.github.com), GITHUB_STEP_SUMMARY (optional).
 */
import { appendFile, readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

export const DEFAULT_MARKER = "<!-- tenancy-diff -->";

export interface UpsertOptions {
  readonly apiUrl: string;
  readonly token: string;
  readonly repository: string;
  readonly pullRequest: number;
  readonly body: string;
  readonly marker?: string;
}

export interface UpsertResult {
  readonly action: "created" | "updated";
  readonly id: number;
}

async function call(
  options: UpsertOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${options.apiUrl.replace(/\/$/, "")}${path}`, {
    method,
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${options.token}`,
      "x-github-api-version": "2022-11-28",
      "user-agent": "tenancy-ci",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw new Error(
      `GitHub API ${method} ${path}: ${response.status} ${response.statusText} ${text.slice(0, 300)}`.trim(),
    );
  }
  return response.json();
}

/** Updates the PR's marked comment, or creates it. The body must contain the marker. */
export async function upsertComment(options: UpsertOptions): Promise<UpsertResult> {
  const marker = options.marker ?? DEFAULT_MARKER;
  const body = options.body.includes(marker) ? options.body : `${marker}\n${options.body}`;
  const base = `/repos/${options.repository}/issues`;
  for (let page = 1; ; page++) {
    const comments = (await call(
      options,
      "GET",
      `${base}/${options.pullRequest}/comments?per_page=100&page=${page}`,
    )) as { id: number; body?: string }[];
    const mine = comments.find((c) => c.body?.includes(marker));
    if (mine) {
      await call(options, "PATCH", `${base}/comments/${mine.id}`, { body });
      return { action: "updated", id: mine.id };
    }
    if (comments.length < 100) break;
  }
  const created = (await call(options, "POST", `${base}/${options.pullRequest}/comments`, {
    body,
  })) as { id: number };
  return { action: "created", id: created.id };
}

async function pullRequestNumber(env: NodeJS.ProcessEnv): Promise<number> {
  if (env.PR_NUMBER) return Number(env.PR_NUMBER);
  if (!env.GITHUB_EVENT_PATH)
    throw new Error("no PR_NUMBER and no GITHUB_EVENT_PATH: not a pull_request run?");
  const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8")) as {
    pull_request?: { number?: number };
  };
  const number = event.pull_request?.number;
  if (!number) throw new Error(`${env.GITHUB_EVENT_PATH} has no pull_request.number`);
  return number;
}

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<UpsertResult> {
  const file = argv[0];
  if (!file) throw new Error("usage: prComment.ts <markdown file>");
  const body = await readFile(file, "utf8");
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${body}\n`);
  const token = env.GITHUB_TOKEN;
  const repository = env.GITHUB_REPOSITORY;
  if (!token || !repository) throw new Error("GITHUB_TOKEN and GITHUB_REPOSITORY must be set");
  return upsertComment({
    apiUrl: env.GITHUB_API_URL ?? "https://api.github.com",
    token,
    repository,
    pullRequest: await pullRequestNumber(env),
    body,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (result) => process.stdout.write(`comment ${result.action}: ${result.id}\n`),
    (error: unknown) => {
      process.stderr.write(
        `prComment: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
