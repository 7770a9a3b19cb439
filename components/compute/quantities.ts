/** Kubernetes CPU and memory quantities, as far as tenant quotas use them. */

/** Millicores of `"250m"`, `"2"`, `"0.5"`. */
export function cpuMillis(quantity: string): number {
  const m = /^(\d+)m$/.exec(quantity);
  if (m?.[1]) return Number(m[1]);
  if (/^\d+(?:\.\d+)?$/.test(quantity)) return Math.round(Number(quantity) * 1000);
  throw new Error(`"${quantity}" is not a CPU quantity such as "500m" or "2"`);
}

const UNIT_MIB: Readonly<Record<string, number>> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 * 1024,
};

/** Mebibytes of `"512Mi"`, `"1Gi"`, … */
export function memoryMebibytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  const unit = m?.[2] ? UNIT_MIB[m[2]] : undefined;
  if (!m?.[1] || unit === undefined) {
    throw new Error(`"${quantity}" is not a memory quantity such as "512Mi"`);
  }
  return Number(m[1]) * unit;
}

export function minCpu(a: string, b: string): string {
  return cpuMillis(a) <= cpuMillis(b) ? a : b;
}

export function minMemory(a: string, b: string): string {
  return memoryMebibytes(a) <= memoryMebibytes(b) ? a : b;
}
