/**
 * Layers, their isolation modes, and how each mode maps onto the pool / bridge / silo model.
 * The single source of truth for mode names: schemas, resolution, components and the
 * service all import from here (the per-layer unions below are derived from {@link MODES}).
 */

export const LAYERS = ["database", "storage", "compute", "identity"] as const;
export type Layer = (typeof LAYERS)[number];

export const MODES = {
  database: ["pool", "schema", "dedicated"],
  storage: ["prefix", "bucket"],
  compute: ["pool", "namespace", "dedicated-nodes", "account"],
  identity: ["shared", "federated"],
} as const satisfies Record<Layer, readonly string[]>;

export type DatabaseMode = (typeof MODES.database)[number];
export type StorageMode = (typeof MODES.storage)[number];
export type ComputeMode = (typeof MODES.compute)[number];
export type IdentityMode = (typeof MODES.identity)[number];

export interface LayerModes {
  readonly database: DatabaseMode;
  readonly storage: StorageMode;
  readonly compute: ComputeMode;
  readonly identity: IdentityMode;
}

/** The AWS SaaS Lens vocabulary: shared, partly dedicated, fully dedicated. */
export type Isolation = "pool" | "bridge" | "silo";

/** Encryption keys: the platform's shared KMS key, or a key of the tenant's own. */
export const ENCRYPTION = ["shared", "dedicated"] as const;
export type Encryption = (typeof ENCRYPTION)[number];

const ISOLATION: { readonly [L in Layer]: Readonly<Record<LayerModes[L], Isolation>> } = {
  database: { pool: "pool", schema: "bridge", dedicated: "silo" },
  storage: { prefix: "pool", bucket: "bridge" },
  compute: { pool: "pool", namespace: "bridge", "dedicated-nodes": "silo", account: "silo" },
  identity: { shared: "pool", federated: "silo" },
};

/**
 * Isolation model of a layer in a given mode. A per-tenant bucket encrypted with the
 * tenant's own key is a silo; with the shared key it is a bridge.
 */
export function isolationOf<L extends Layer>(
  layer: L,
  mode: LayerModes[L],
  encryption: Encryption = "shared",
): Isolation {
  const isolation = ISOLATION[layer][mode];
  if (layer === "storage" && mode === "bucket" && encryption === "dedicated") return "silo";
  return isolation;
}

/** True when some layer needs infrastructure of its own, not a registration. */
export function needsDedicatedInfrastructure(layers: LayerModes): boolean {
  return LAYERS.some((layer) => isolationOf(layer, layers[layer]) !== "pool");
}

/**
 * Whether a tenant has a Pulumi stack of its own (`tenant-<slug>`), deployed through the
 * Automation API: when a layer is not pooled, or when it has a KMS key of its own. Otherwise
 * it is a registration in the shared database, done in the signup request. The one place
 * this is decided: the service's provisioner, `tenancy up`/`preview` and the benchmarks ask it.
 */
export function needsStack(tenant: {
  readonly layers: LayerModes;
  readonly encryption: Encryption;
}): boolean {
  return needsDedicatedInfrastructure(tenant.layers) || tenant.encryption !== "shared";
}

/**
 * The `default:` of an exhaustive `switch` over a mode: a new mode that a `switch` does not
 * handle fails to compile there (its value is not `never`), and fails loudly at run time if
 * an unvalidated value slipped through.
 */
export function assertNever(value: never, what = "value"): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
