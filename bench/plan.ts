/**
 * How `tenancy plan` grows with the catalog: 100, 1,000 and 5,000 generated tenants, each
 * size measured in a fresh Node process (wall time, peak RSS, program runs).
 *
 *   node --import tsx bench/plan.ts                 # per-shape planning (the CLI default)
 *   node --import tsx bench/plan.ts --exact 100,1000  # also run the program for every tenant
 *   node --import tsx bench/plan.ts --cli 5000        # also `tenancy plan --json` end to end
 *
 * Generated tenants follow the example tiers (tenants/tiers.yaml): 70% free, 20% pro (a
 * quarter of them with a dedicated database or dedicated nodes), 10% enterprise (a fifth on
 * accounts), spread over four regions.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { parse, stringify } from "yaml";
import {
  resolveTenant,
  tiersFileSchema,
  type ResolvedTenant,
  type TenantFile,
} from "../catalog/index.ts";
import type { PlanStrategy } from "../stacks/planning/planCatalog.ts";

const REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"] as const;

export async function generateTenants(count: number): Promise<ResolvedTenant[]> {
  const tiers = tiersFileSchema.parse(parse(await readFile("tenants/tiers.yaml", "utf8")));
  return generateTenantFiles(count).map((spec) => resolveTenant(spec, tiers));
}

export function generateTenantFiles(count: number): TenantFile[] {
  const files: TenantFile[] = [];
  for (let i = 0; i < count; i++) {
    const slug = `t${String(i).padStart(5, "0")}`;
    const region = REGIONS[i % REGIONS.length]!;
    const bucket = i % 10;
    let spec: TenantFile;
    if (bucket < 7) {
      spec = { slug, name: slug, tier: "free", region, lifecycle: "active" };
    } else if (bucket < 9) {
      const overrides =
        i % 4 === 0
          ? { database: "dedicated" as const }
          : i % 4 === 1
            ? { compute: "dedicated-nodes" as const }
            : undefined;
      spec = {
        slug,
        name: slug,
        tier: "pro",
        region,
        lifecycle: "active",
        ...(overrides ? { overrides } : {}),
      };
    } else {
      spec = {
        slug,
        name: slug,
        tier: "enterprise",
        region,
        lifecycle: "active",
        federation: { protocol: "saml", metadataUrl: `https://sso.${slug}.example/metadata` },
        ...(i % 5 === 0 ? { overrides: { compute: "account" as const } } : {}),
      };
    }
    files.push(spec);
  }
  return files;
}

type Mode = PlanStrategy | "cli";

interface Measurement {
  readonly tenants: number;
  readonly strategy: Mode;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly runs: number;
  readonly resources: number;
}

/**
 * `tenancy plan --json` end to end on a generated catalog directory: loading and validating
 * the YAML files, resolving, planning and writing the JSON.
 */
async function measureCli(count: number): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-bench-"));
  try {
    await writeFile(join(dir, "tiers.yaml"), await readFile("tenants/tiers.yaml", "utf8"));
    for (const spec of generateTenantFiles(count)) {
      const { lifecycle: _lifecycle, ...file } = spec;
      await writeFile(join(dir, `${spec.slug}.yaml`), stringify(file));
    }
    const { main } = await import("../cli/main.ts");
    await main(["plan", "--json", "--catalog", "tenants"], {
      stdout: () => undefined,
      stderr: () => undefined,
    });
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    let bytes = 0;
    const start = performance.now();
    const code = await main(["plan", "--json", "--catalog", dir], {
      stdout: (text) => (bytes += text.length),
      stderr: (text) => process.stderr.write(text),
    });
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (code !== 0) throw new Error(`tenancy plan exited ${code}`);
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      tenants: count,
      strategy: "cli",
      seconds,
      peakRssMb: peak / 2 ** 20,
      runs: 0,
      resources: bytes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One measurement, in this process (called in a child). */
async function measure(count: number, strategy: Mode): Promise<Measurement> {
  if (strategy === "cli") return measureCli(count);
  const tenants = await generateTenants(count);
  const { planCatalogResources } = await import("../stacks/planning/planCatalog.ts");
  // Warm up module loading and the SDK on a tenant outside the measurement.
  await planCatalogResources(
    (await generateTenants(1)).map((t) => ({ ...t, slug: "warm-up" })),
    "aws",
  );
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  let runs = 0;
  const start = performance.now();
  const plans = await planCatalogResources(tenants, "aws", { strategy, onRun: (n) => (runs = n) });
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  let resources = 0;
  for (const list of plans.values()) resources += list.length;
  return { tenants: count, strategy, seconds, peakRssMb: peak / 2 ** 20, runs, resources };
}

async function inChild(count: number, strategy: Mode): Promise<Measurement> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      "--child",
      String(count),
      "--strategy",
      strategy,
    ],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Measurement;
}

async function mainBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      strategy: { type: "string", default: "per-shape" },
      sizes: { type: "string", default: "100,1000,5000" },
      exact: { type: "string" },
      cli: { type: "string" },
    },
  });
  if (values.child) {
    process.stdout.write(
      JSON.stringify(await measure(Number(values.child), values.strategy as Mode)) + "\n",
    );
    return;
  }
  const list = (value: string | undefined) => (value ?? "").split(",").filter(Boolean).map(Number);
  const plan: [number, Mode][] = [
    ...list(values.sizes).map((n) => [n, "per-shape"] as [number, Mode]),
    ...list(values.exact).map((n) => [n, "exact"] as [number, Mode]),
    ...list(values.cli).map((n) => [n, "cli"] as [number, Mode]),
  ];
  const results: Measurement[] = [];
  console.log(
    "tenants  strategy   runs  resources   seconds  ms/tenant  peak RSS MB  time ×   (× vs the strategy's first size; cli: resources = bytes of JSON)",
  );
  for (const [count, strategy] of plan) {
    const m = await inChild(count, strategy);
    results.push(m);
    const base = results.find((r) => r.strategy === strategy)!;
    console.log(
      [
        String(m.tenants).padStart(7),
        m.strategy.padEnd(9),
        String(m.runs).padStart(5),
        String(m.resources).padStart(10),
        m.seconds.toFixed(2).padStart(9),
        ((m.seconds * 1000) / m.tenants).toFixed(2).padStart(10),
        m.peakRssMb.toFixed(0).padStart(12),
        (m.seconds / base.seconds).toFixed(1).padStart(7),
      ].join("  "),
    );
  }
}

await mainBench();
