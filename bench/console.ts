/// <reference lib="dom" />
/**
 * The operator console at 5,000 tenants in Debian's Chromium (playwright-core): first paint of
 * the tenant list on a fresh page load (the page's own `rendered:/tenants` mark, from
 * navigation start) and search (from the input event to the re-rendered table, measured in
 * the page, and wall time until the count shows the result). Goals: first paint ≤ 1 s,
 * search ≤ 300 ms. Real HTTP, real PostgreSQL (embedded unless DATABASE_URL).
 *
 *   node --import tsx bench/console.ts [tenants=5000] [loads=10] [searches=20]
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { loadCatalog } from "../catalog/index.ts";
import { startControlPlane } from "../control-plane/controlPlane.ts";
import { launch, seedTenants } from "../test/support/browser.ts";
import { benchServer, percentile, withDatabase } from "./support.ts";

const tenants = Number(process.argv[2] ?? 5000);
const loads = Number(process.argv[3] ?? 10);
const searches = Number(process.argv[4] ?? 20);

const server = await benchServer({ fast: true });
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
const suffix = randomBytes(3).toString("hex");
const control = `bench_console_${suffix}`;
const shared = `bench_console_shared_${suffix}`;
await admin.query(`CREATE DATABASE ${control}`);
await admin.query(`CREATE DATABASE ${shared}`);
const loaded = await loadCatalog("tenants");
if (!loaded.ok) throw new Error("example catalog invalid");
const token = randomBytes(16).toString("hex");
const plane = await startControlPlane({
  controlDatabaseUrl: withDatabase(server.url, control),
  sharedDatabaseUrl: withDatabase(server.url, shared),
  tiers: () => loaded.catalog.tiers,
  auth: { operatorToken: token },
  rolePrefix: `bench_${suffix}`,
  databasePrefix: `bench_${suffix}_db`,
  concurrency: 1,
});
await seedTenants(plane.pool, loaded.catalog.tiers, tenants);
const base = await plane.app!.listen({ host: "127.0.0.1", port: 0 });
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${base}/console`);
await page.fill("#token", token);
await page.click("#sign-in-form button[type=submit]");
await page.waitForSelector("h1:has-text('Fleet:')");

const paints: number[] = [];
for (let i = 0; i < loads; i++) {
  await page.goto("about:blank");
  await page.goto(`${base}/console#/tenants`);
  await page.waitForSelector(`#count:has-text('of ${tenants} tenants')`);
  paints.push(
    await page.evaluate(() => performance.getEntriesByName("rendered:/tenants")[0]!.startTime),
  );
}

const inPage: number[] = [];
const wall: number[] = [];
for (let i = 0; i < searches; i++) {
  const slug = `t-${String((i * 397) % tenants).padStart(4, "0")}`;
  const started = Date.now();
  const ms = await page.evaluate((query: string) => {
    const input = document.getElementById("search") as HTMLInputElement;
    const began = performance.now();
    input.value = query;
    input.dispatchEvent(new Event("input"));
    return performance.now() - began;
  }, slug);
  await page.waitForSelector(`#count:has-text('1 of ${tenants} tenants')`);
  inPage.push(ms);
  wall.push(Date.now() - started);
  await page.evaluate(() => {
    const input = document.getElementById("search") as HTMLInputElement;
    input.value = "";
    input.dispatchEvent(new Event("input"));
  });
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const figures = (values: number[]) =>
  `p50 ${percentile(sorted(values), 50).toFixed(0)} ms, p95 ${percentile(sorted(values), 95).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
console.log(
  `console tenant list at ${tenants} tenants, first paint (${loads} loads): ${figures(paints)}`,
);
console.log(
  `console search at ${tenants} tenants (${searches}): in page ${figures(inPage)}; wall ${figures(wall)}`,
);

await browser.close();
await plane.stop();
await admin.query(`DROP DATABASE ${control} WITH (FORCE)`);
await admin.query(`DROP DATABASE ${shared} WITH (FORCE)`);
await admin.end();
await server.stop();
