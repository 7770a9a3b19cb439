/**
 * The Kubernetes side of usage: `status.used` of the ResourceQuotas in each tenant's
 * namespace (`tenant-<slug>`), read from the API server in one list call per cycle.
 */
import { request } from "node:https";
import { tenantNamespaceName } from "../../components/naming.ts";

export interface KubeAccess {
  /** `https://host:port` of the API server. */
  readonly server: string;
  /** PEM of the certificate authority to trust. */
  readonly caCert: string;
  /** Bearer token allowed to list resourcequotas in every namespace. */
  readonly token: string;
}

/** Reads quota usage by tenant slug; a tenant without a namespace quota is absent. */
export type KubeQuotaReader = (
  slugs: readonly string[],
) => Promise<Map<string, Record<string, string>>>;

export function kubeQuotaReader(access: KubeAccess, timeoutMs = 5000): KubeQuotaReader {
  return async (slugs) => {
    const body = await getJson(access, "/api/v1/resourcequotas", timeoutMs);
    const wanted = new Map(slugs.map((slug) => [tenantNamespaceName(slug), slug]));
    const used = new Map<string, Record<string, string>>();
    for (const item of body.items ?? []) {
      const slug = wanted.get(item.metadata?.namespace ?? "");
      if (!slug || !item.status?.used) continue;
      used.set(slug, { ...(used.get(slug) ?? {}), ...item.status.used });
    }
    return used;
  };
}

interface QuotaList {
  readonly items?: readonly {
    readonly metadata?: { readonly namespace?: string };
    readonly status?: { readonly used?: Record<string, string> };
  }[];
}

function getJson(access: KubeAccess, path: string, timeoutMs: number): Promise<QuotaList> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, access.server),
      {
        method: "GET",
        ca: access.caCert,
        headers: { authorization: `Bearer ${access.token}`, accept: "application/json" },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (response.statusCode !== 200) {
            reject(
              new Error(`Kubernetes API ${path}: ${response.statusCode} ${text.slice(0, 200)}`),
            );
            return;
          }
          try {
            resolve(JSON.parse(text) as QuotaList);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`Kubernetes API ${path}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}
