/// <reference lib="dom" />
/**
 * Debian's Chromium driven by playwright-core, for the console's browser tests and its
 * benchmark, and the 5,000 tenants they seed directly into the control plane's database.
 */
import type pg from "pg";
import { resolveTenant, type TiersFile } from "../../catalog/index.ts";

export const CHROMIUM = process.env.TENANCY_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface BrowserRequest {
  url(): string;
  headers(): Record<string, string>;
}

/** The part of playwright-core's Page API the tests use (loaded at run time: see `launch`). */
export interface Page {
  goto(url: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  dblclick(selector: string): Promise<void>;
  selectOption(selector: string, value: string): Promise<unknown>;
  waitForSelector(selector: string, options?: { timeout?: number }): Promise<unknown>;
  waitForFunction<A>(
    fn: (arg: A) => boolean,
    arg?: A,
    options?: { timeout?: number },
  ): Promise<unknown>;
  isVisible(selector: string): Promise<boolean>;
  textContent(selector: string): Promise<string | null>;
  getAttribute(selector: string, name: string): Promise<string | null>;
  content(): Promise<string>;
  url(): string;
  evaluate<T>(fn: () => T): Promise<T>;
  evaluate<T, A>(fn: (arg: A) => T, arg: A): Promise<T>;
  locator(selector: string): { count(): Promise<number>; allTextContents(): Promise<string[]> };
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: "request", listener: (request: BrowserRequest) => void): void;
  close(): Promise<void>;
}

export interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}

/**
 * playwright-core is a devDependency, imported by a computed name so that a checkout whose
 * node_modules predates it still typechecks (the caller then fails with a clear message).
 */
export async function launch(): Promise<Browser> {
  const name = "playwright-core";
  const { chromium } = (await import(name)) as {
    chromium: { launch(options: { executablePath: string; args: string[] }): Promise<Browser> };
  };
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/**
 * Inserts `count` tenants directly: slugs t-0000.., every seventh pro, every 50th failed with
 * last error "seeded failure".
 */
export async function seedTenants(pool: pg.Pool, tiers: TiersFile, count: number): Promise<void> {
  const spec = { slug: "seed", name: "Seed", tier: "free", lifecycle: "active" as const };
  const resolved = resolveTenant(spec, tiers);
  await pool.query(
    `INSERT INTO control_plane.tenants (slug, name, tier, source, spec, resolved, state, last_error)
     SELECT s.slug, 'Customer ' || i, CASE WHEN i % 7 = 0 THEN 'pro' ELSE 'free' END, 'api',
            jsonb_set($1::jsonb, '{slug}', to_jsonb(s.slug)),
            jsonb_set(jsonb_set($2::jsonb, '{slug}', to_jsonb(s.slug)), '{tier}',
                      to_jsonb(CASE WHEN i % 7 = 0 THEN 'pro' ELSE 'free' END)),
            CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'active' END,
            CASE WHEN i % 50 = 0 THEN 'seeded failure' END
       FROM generate_series(0, $3 - 1) AS i, LATERAL (SELECT 't-' || lpad(i::text, 4, '0') AS slug) s`,
    [JSON.stringify(spec), JSON.stringify(resolved), count],
  );
}
