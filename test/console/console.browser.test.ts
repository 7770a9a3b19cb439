/// <reference lib="dom" />
/**
 * The operator console in a real browser (Debian's Chromium, driven by playwright-core)
 * against a real control plane and PostgreSQL with 5,000 tenants seeded directly. Without
 * Chromium the suite is skipped with one loud line — unless CI=true, where it fails. Speed
 * (first paint, search at 5,000 tenants) is measured by bench/console.ts, not asserted here.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { TiersFile } from "../../catalog/index.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeFailure } from "../../control-plane/jobs/failure.ts";
import { tryTenantLock } from "../../control-plane/jobs/tenantLock.ts";
import { CHROMIUM, launch, seedTenants, type Browser, type Page } from "../support/browser.ts";
import {
  exampleTiers,
  startTestControlPlane,
  type TestControlPlane,
} from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const SEEDED = 5_000;

const db = useTestDatabase();
const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== "true") {
  console.warn(
    `\n*** SKIPPED console browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium) ***\n`,
  );
}

describe.skipIf(!available && process.env.CI !== "true")("operator console in Chromium", () => {
  let plane: TestControlPlane;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!available)
      throw new Error(
        `no Chromium at ${CHROMIUM}: CI must install it (apt-get install -y chromium)`,
      );
    const example = await exampleTiers();
    // "plus": the free tier with more connections, so a tier change runs without the engine.
    const tiers: TiersFile = {
      ...example,
      tiers: {
        ...example.tiers,
        plus: {
          ...example.tiers.free!,
          description: "Free with more connections",
          quotas: { ...example.tiers.free!.quotas, dbConnections: 5 },
        },
      },
    };
    plane = await startTestControlPlane(db.current.name, { tiers: () => tiers });
    await seedTenants(plane.pool, tiers, SEEDED);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await plane?.stop();
  }, 60_000);

  const signIn = async (token: string) => {
    await page.fill("#token", token);
    await page.click("#sign-in-form button[type=submit]");
  };

  it("without a token serves only the sign-in page, and refuses a wrong token", async () => {
    const html = await (await fetch(`${plane.baseUrl}/console`)).text();
    expect(html).toContain('id="sign-in-form"');
    expect(html).not.toContain("t-0001");
    const data = await fetch(`${plane.baseUrl}/v1/fleet/tenants`);
    expect(data.status).toBe(401);

    await page.goto(`${plane.baseUrl}/console`);
    expect(await page.isVisible("#sign-in-form")).toBe(true);
    await signIn("not-the-token");
    await page.waitForSelector("#sign-in-error:has-text('refused')");
    expect(await page.isVisible("#view")).toBe(false);
    expect(await page.content()).not.toContain("t-0001");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("signs in, shows the fleet, lists 5,000 tenants and searches them", async () => {
    await signIn(plane.token);
    await page.waitForSelector("h1:has-text('Fleet: 5000 tenants')");
    expect(await page.textContent("#failures")).toContain("Failures (100)");
    expect(page.url()).not.toContain(plane.token);
    expect(await page.evaluate(() => sessionStorage.getItem("tenancy.operatorToken"))).toBe(
      plane.token,
    );

    // A fresh load of the list (token still in the tab's storage); speed: bench/console.ts.
    await page.goto("about:blank");
    await page.goto(`${plane.baseUrl}/console#/tenants`);
    await page.waitForSelector("#count:has-text('of 5000 tenants')");
    expect(await page.locator("tbody tr").count()).toBe(200);
    await page.fill("#search", "t-4321");
    await page.waitForSelector("#count:has-text('1 of 5000 tenants')");
    expect(await page.locator("tbody tr td:first-child").allTextContents()).toEqual(["t-4321"]);
    await page.selectOption("#filter-state", "failed");
    await page.fill("#search", "");
    await page.waitForSelector("#count:has-text('100 of 5000 tenants')");
    await mkdir("docs", { recursive: true });
    if (process.env.TENANCY_UPDATE_SCREENSHOTS === "1") {
      await page.screenshot({ path: "docs/console-tenants.png" }); // the README's picture
    }

    await page.click("a[href='#/tenants/t-0050']");
    await page.waitForSelector("#tenant-state:has-text('failed')");
    expect(await page.textContent("#last-error-text")).toBe("seeded failure");
  });

  it("shows a 404 page for a slug that does not exist", async () => {
    await page.goto("about:blank");
    await page.goto(`${plane.baseUrl}/console#/tenants/no-such-tenant`);
    await page.waitForSelector("h1:has-text('Tenant not found')");
  });

  it("a failed tenant shows its first failing resource and the engine's message, and its drift", async () => {
    const failure = {
      resource: "t-0100-database-objects",
      type: "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
      urn: "urn:pulumi:tenant-t-0100::tenancy::tenancy:tenant:Tenant$tenancy:database:TenantDatabase$pulumi-nodejs:dynamic/tenancy:TenantDatabase::t-0100-database-objects",
      message: 'error: database "nowhere" does not exist',
    };
    const drift = {
      stack: "tenant-t-0100",
      checkedAt: new Date().toISOString(),
      resources: 2,
      drifted: [
        {
          urn: failure.urn,
          type: failure.type,
          name: failure.resource,
          drift: "changed",
          properties: [{ path: "access.schemaUsage", state: true, live: false }],
        },
      ],
    };
    // As the executor writes them: the failed operation, the tenant's last error, a refresh.
    const { rows } = await plane.pool.query<{ id: string }>(
      `INSERT INTO control_plane.operations (tenant_slug, kind, tier, state, error, result, finished_at)
       VALUES ('t-0100', 'signup', 'free', 'failed', $1, $2, now()) RETURNING id`,
      [describeFailure(failure), JSON.stringify({ failure })],
    );
    await plane.pool.query(
      `INSERT INTO control_plane.operations (tenant_slug, kind, tier, state, result, created_at, finished_at)
       VALUES ('t-0100', 'refresh', 'free', 'succeeded', $1, now() + interval '1 second', now())`,
      [JSON.stringify({ drift })],
    );
    await plane.pool.query(
      "UPDATE control_plane.tenants SET last_error = $1 WHERE slug = 't-0100'",
      [describeFailure(failure)],
    );
    const api = (await (await plane.request("/v1/tenants/t-0100")).json()) as {
      lastFailure: unknown;
      drift: { report: unknown };
    };
    expect(api.lastFailure).toEqual({ ...failure, operationId: rows[0]!.id });
    expect(api.drift.report).toEqual(drift);

    await page.goto("about:blank");
    await page.goto(`${plane.baseUrl}/console#/tenants/t-0100`);
    await page.waitForSelector("#tenant-state:has-text('failed')");
    expect(await page.textContent("#failing-resource")).toBe(
      `${failure.type} "${failure.resource}"`,
    );
    expect(await page.textContent("#failing-urn")).toBe(failure.urn);
    expect(await page.textContent("#failing-message")).toBe(failure.message);
    expect(await page.textContent("#last-error-text")).toBe(describeFailure(failure));
    expect(await page.textContent("#drift-summary")).toBe("1 of 2 resources drifted.");
    expect(await page.locator("#drift tbody td").allTextContents()).toEqual([
      `${failure.type} "${failure.resource}"`,
      "access.schemaUsage",
      "true",
      "false",
    ]);
    // The README's picture, redrawn on request only: a test run leaves the tree clean.
    if (process.env.TENANCY_UPDATE_SCREENSHOTS === "1") {
      await page.screenshot({ path: "docs/console-tenant.png", fullPage: true });
    }
  });

  it("changes a tier through the dialog: the API's refusal next to the field, then the operation and its events", async () => {
    const signup = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "tier-one", name: "Tier One", tier: "free" },
    });
    expect(signup.status).toBe(202);
    await page.goto("about:blank");
    await page.goto(`${plane.baseUrl}/console#/tenants/tier-one`);
    await page.waitForSelector("#tenant-state:has-text('active')");

    // Enterprise needs a federation the tenant does not have: the API's reason, by the field.
    await page.selectOption("#new-tier", "enterprise");
    await page.click("button:has-text('Change tier…')");
    await page.waitForSelector("#tier-error:has-text('invalid-tenant')");
    expect(await page.textContent("#tier-error")).toMatch(/federation/);
    expect(await page.isVisible("#confirm")).toBe(false);

    await page.selectOption("#new-tier", "plus");
    await page.click("button:has-text('Change tier…')");
    await page.waitForSelector("#confirm[open]");
    expect(await page.textContent("#confirm-title")).toBe("Change tier-one to tier plus?");
    // Before and after: the layers (unchanged here) and the quota that changes.
    expect(await page.locator("#confirm-body tbody tr").allTextContents()).toEqual([
      "databasepoolpool",
      "storageprefixprefix",
      "computepoolpool",
      "identitysharedshared",
      "dbConnections35",
    ]);
    await page.click("#confirm-ok");
    await page.waitForFunction(() => location.hash.includes("?operation="));
    const { rows } = await plane.pool.query<{ id: string; kind: string }>(
      "SELECT id, kind FROM control_plane.operations WHERE tenant_slug = 'tier-one' ORDER BY created_at DESC LIMIT 1",
    );
    const operation = rows[0]!;
    expect(page.url()).toContain(`#/tenants/tier-one?operation=${operation.id}`);
    await page.waitForSelector(`#followed-operation[data-operation="${operation.id}"]`);
    expect(await page.textContent("#followed-operation")).toContain(`${operation.kind} operation`);
    await page.waitForSelector("#events [data-event=succeeded]");
    const events = await page.evaluate(() =>
      Array.from(document.querySelectorAll("#events [data-event]")).map((e) =>
        e.getAttribute("data-event"),
      ),
    );
    expect(events[0]).toBe("started");
    expect(events.at(-1)).toBe("succeeded");
    expect(events.filter((e) => e === "succeeded")).toHaveLength(1);
    expect(
      (await plane.pool.query("SELECT tier FROM control_plane.tenants WHERE slug = 'tier-one'"))
        .rows[0],
    ).toEqual({ tier: "plus" });
  });

  it("resumes the live events after the stream is cut, without duplicates (Last-Event-ID)", async () => {
    // An operation held open: the test holds its tenant's lock, so no worker runs it, and
    // writes its events itself, as a worker would.
    await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "sse-one", name: "SSE One", tier: "free" },
    });
    const lock = (await tryTenantLock(plane.pool, "sse-one"))!;
    expect(lock).toBeDefined();
    try {
      const { rows } = await plane.pool.query<{ id: string }>(
        `INSERT INTO control_plane.operations (tenant_slug, kind, tier, state, started_at)
         VALUES ('sse-one', 'update', 'free', 'running', now()) RETURNING id`,
      );
      const id = rows[0]!.id;
      const event = async (type: string, data: unknown) => {
        const inserted = await plane.pool.query<{ id: number }>(
          "INSERT INTO control_plane.operation_events (operation_id, type, data) VALUES ($1, $2, $3) RETURNING id::int",
          [id, type, JSON.stringify(data)],
        );
        return inserted.rows[0]!.id;
      };
      await event("started", { attempt: 1 });
      const secondId = await event("log", { line: "before the cut" });
      const resumedWith: string[] = [];
      page.on("request", (request) => {
        if (request.url().endsWith(`/v1/operations/${id}/events`))
          resumedWith.push(request.headers()["last-event-id"] ?? "");
      });
      await page.goto("about:blank");
      await page.goto(`${plane.baseUrl}/console#/tenants/sse-one`);
      await page.waitForSelector("#events [data-event=log]");

      // The server cuts every connection, the event stream with them.
      plane.app!.server.closeAllConnections();
      await event("log", { line: "after the cut" });
      await event("succeeded", {});
      await plane.pool.query(
        "UPDATE control_plane.operations SET state = 'succeeded', finished_at = now() WHERE id = $1",
        [id],
      );
      // Read in the page, in one go, as soon as `succeeded` shows: 300 ms later the page
      // reloads the finished operation, and a read across that reload saw a half-drawn list.
      await page.waitForFunction(
        () => {
          const texts = Array.from(document.querySelectorAll("#events [data-event]")).map(
            (e) => `${e.getAttribute("data-event")}|${e.textContent}`,
          );
          if (!texts.some((t) => t.startsWith("succeeded|"))) return false;
          document.body.dataset["eventsAtEnd"] = JSON.stringify(texts.map((t) => t.split("|")[1]));
          return true;
        },
        undefined,
        { timeout: 15_000 },
      );
      const shown = await page.evaluate(() => document.body.dataset["eventsAtEnd"] ?? "[]");
      expect(JSON.parse(shown)).toEqual([
        'started {"attempt":1}',
        'log {"line":"before the cut"}',
        'log {"line":"after the cut"}',
        "succeeded {}",
      ]);
      // The first connection, then the resumed one (the page reloads once the operation ends).
      expect(resumedWith.slice(0, 2)).toEqual(["", String(secondId)]);
    } finally {
      await lock.release();
    }
  });

  it("signs up once on a double click, follows a live operation, and retries a failed one", async () => {
    await page.goto("about:blank");
    await page.goto(`${plane.baseUrl}/console#/signup`);
    await page.fill("#signup-slug", "live-one");
    await page.fill("#signup-name", "Live One");
    await page.selectOption("#signup-tier", "pro"); // no engine here: its deployment fails
    await page.dblclick("#signup-form button[type=submit]");
    await page.waitForSelector("#tenant-state");
    // The live stream shows the operation finishing (failed: no engine in this test).
    await page.waitForSelector("#events [data-event=failed]", { timeout: 30_000 });
    await page.waitForSelector("#tenant-state:has-text('failed')", { timeout: 10_000 });
    const { rows } = await plane.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM control_plane.operations WHERE tenant_slug = 'live-one'",
    );
    expect(rows[0]!.n).toBe(1);

    await page.click("button:has-text('Retry…')");
    await page.click("#confirm-ok");
    await page.waitForFunction(
      () =>
        document.querySelectorAll("#operations tbody tr").length === 2 &&
        document.querySelector("#operations tbody tr .state-failed") !== null &&
        document.querySelector(
          "#operations tbody tr .state-queued, #operations tbody tr .state-running",
        ) === null,
      undefined,
      { timeout: 15_000 },
    );
    const ops = await plane.pool.query<{ kind: string; retry_of: string | null }>(
      "SELECT kind, input ->> 'retryOf' AS retry_of FROM control_plane.operations WHERE tenant_slug = 'live-one' ORDER BY created_at",
    );
    expect(ops.rows).toHaveLength(2);
    expect(ops.rows[1]!.retry_of).toBeTruthy();

    // Offboarding asks for the slug; a wrong one is refused in the dialog.
    await page.waitForSelector("button:has-text('Offboard…')");
    await page.click("button:has-text('Offboard…')");
    await page.fill("#confirm-slug", "live-on");
    await page.click("#confirm-ok");
    await page.waitForSelector("#confirm-error:has-text('Type live-one exactly')");
    await page.click("#confirm-cancel");
  });

  it("a refused token mid-session goes back to sign-in and shows no data", async () => {
    await page.evaluate(() => sessionStorage.setItem("tenancy.operatorToken", "revoked"));
    await page.goto("about:blank");
    await page.goto(`${plane.baseUrl}/console#/tenants`);
    await page.waitForSelector("#sign-in-error:has-text('refused')");
    expect(await page.isVisible("#view")).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
