/** `tenancy usage --cost` as text: per tenant its metered and shared lines, then the rules. */
import type { CostReport } from "../contract/pricing.ts";

export function costLines(report: CostReport): string[] {
  const money = (value: number) => value.toFixed(6);
  const lines = [
    `estimated cost in ${report.currency}, ${report.from} .. ${report.to} (prices: ${report.pricingFile}):`,
  ];
  if (report.tenants.length === 0) lines.push("  no usage recorded");
  for (const tenant of report.tenants) {
    lines.push(`  ${tenant.slug} (${tenant.tier})`.padEnd(44) + money(tenant.total).padStart(16));
    for (const m of tenant.metered) {
      const label = `${m.unit} ${round(m.quantity)} × ${m.price}/${m.per}`;
      lines.push(`    ${label}`.padEnd(44) + money(m.cost).padStart(16));
    }
    for (const s of tenant.shared) {
      const label = `${s.resource}: ${(s.share * 100).toFixed(2)} % (${round(s.basis)})`;
      lines.push(`    ${label}`.padEnd(44) + money(s.cost).padStart(16));
    }
  }
  lines.push(`  total allocated`.padEnd(44) + money(report.total).padStart(16));
  for (const s of report.shared) {
    if (s.unallocated > 0) {
      lines.push(
        `  ${s.resource} unallocated (no usage)`.padEnd(44) + money(s.unallocated).padStart(16),
      );
    }
  }
  lines.push("how:");
  for (const rule of report.rules) lines.push(`  - ${rule}`);
  return lines;
}

/** Six significant digits: storage in GiB-months over a short window is a small number. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}
