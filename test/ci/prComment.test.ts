/**
 * The workflow's comment upsert against a real local HTTP server that plays the GitHub API
 * and records every call.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main, upsertComment } from "../../scripts/ci/prComment.ts";

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

/** A fake GitHub holding `comments` on PR 7 of acme/infra; records every request. */
async function fakeGitHub(comments: { id: number; body: string }[], status = 200) {
  const calls: Recorded[] = [];
  let nextId = 9000;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const body = raw ? (JSON.parse(raw) as { body: string }) : undefined;
      calls.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body,
      });
      const url = new URL(req.url ?? "/", "http://x");
      const send = (code: number, value: unknown) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (status !== 200)
        return send(status, { message: "Resource not accessible by integration" });
      if (req.method === "GET" && url.pathname === "/repos/acme/infra/issues/7/comments") {
        const page = Number(url.searchParams.get("page"));
        const size = Number(url.searchParams.get("per_page"));
        return send(200, comments.slice((page - 1) * size, page * size));
      }
      const patch = /^\/repos\/acme\/infra\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if (req.method === "PATCH" && patch && body) {
        const comment = comments.find((c) => c.id === Number(patch[1]));
        if (!comment) return send(404, { message: "Not Found" });
        comment.body = body.body;
        return send(200, comment);
      }
      if (req.method === "POST" && url.pathname === "/repos/acme/infra/issues/7/comments" && body) {
        const comment = { id: nextId++, body: body.body };
        comments.push(comment);
        return send(201, comment);
      }
      send(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { calls, comments, apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const unrelated = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, body: `lgtm ${i}` }));

describe("PR comment upsert", () => {
  it("creates the comment when none carries the marker, after reading every page", async () => {
    const gh = await fakeGitHub(unrelated(130));
    const result = await upsertComment({
      apiUrl: gh.apiUrl,
      token: "t0k",
      repository: "acme/infra",
      pullRequest: 7,
      body: "<!-- tenancy-diff -->\n## diff",
    });
    expect(result).toEqual({ action: "created", id: 9000 });
    expect(gh.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "GET /repos/acme/infra/issues/7/comments?per_page=100&page=1",
      "GET /repos/acme/infra/issues/7/comments?per_page=100&page=2",
      "POST /repos/acme/infra/issues/7/comments",
    ]);
    expect(gh.calls.every((c) => c.authorization === "Bearer t0k")).toBe(true);
    expect(gh.calls[2]?.body).toEqual({ body: "<!-- tenancy-diff -->\n## diff" });
  });

  it("updates the one marked comment (found on page 2) and never creates a second", async () => {
    const gh = await fakeGitHub([
      ...unrelated(100),
      { id: 555, body: "<!-- tenancy-diff -->\nold diff" },
      { id: 556, body: "thanks" },
    ]);
    const first = await upsertComment({
      apiUrl: gh.apiUrl,
      token: "t",
      repository: "acme/infra",
      pullRequest: 7,
      body: "<!-- tenancy-diff -->\nnew diff",
    });
    const second = await upsertComment({
      apiUrl: gh.apiUrl,
      token: "t",
      repository: "acme/infra",
      pullRequest: 7,
      body: "<!-- tenancy-diff -->\nnewer diff",
    });
    expect([first, second]).toEqual([
      { action: "updated", id: 555 },
      { action: "updated", id: 555 },
    ]);
    expect(gh.calls.filter((c) => c.method === "POST")).toEqual([]);
    expect(gh.calls.filter((c) => c.method === "PATCH").map((c) => c.url)).toEqual([
      "/repos/acme/infra/issues/comments/555",
      "/repos/acme/infra/issues/comments/555",
    ]);
    expect(gh.comments.filter((c) => c.body.includes("<!-- tenancy-diff -->"))).toEqual([
      { id: 555, body: "<!-- tenancy-diff -->\nnewer diff" },
    ]);
  });

  it("main(): reads the PR number from the event, adds the marker, writes the job summary", async () => {
    const gh = await fakeGitHub([]);
    const dir = await mkdtemp(join(tmpdir(), "tenancy-ci-"));
    await writeFile(join(dir, "event.json"), JSON.stringify({ pull_request: { number: 7 } }));
    await writeFile(join(dir, "diff.md"), "## tenancy diff\n");
    await writeFile(join(dir, "summary.md"), "");
    const result = await main([join(dir, "diff.md")], {
      GITHUB_TOKEN: "t",
      GITHUB_REPOSITORY: "acme/infra",
      GITHUB_EVENT_PATH: join(dir, "event.json"),
      GITHUB_API_URL: gh.apiUrl,
      GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    });
    expect(result.action).toBe("created");
    expect(gh.comments[0]?.body).toBe("<!-- tenancy-diff -->\n## tenancy diff\n");
    expect(await readFile(join(dir, "summary.md"), "utf8")).toBe("## tenancy diff\n\n");
  });

  it("an API refusal fails with the status and GitHub's message", async () => {
    const gh = await fakeGitHub([], 403);
    await expect(
      upsertComment({
        apiUrl: gh.apiUrl,
        token: "t",
        repository: "acme/infra",
        pullRequest: 7,
        body: "x",
      }),
    ).rejects.toThrow(
      /GET \/repos\/acme\/infra\/issues\/7\/comments\?per_page=100&page=1: 403 Forbidden .*Resource not accessible by integration/,
    );
  });
});
