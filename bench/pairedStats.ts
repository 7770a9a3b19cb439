/**
 * Confidence intervals of a paired ratio (variant / baseline, measured back to back): a
 * percentile bootstrap of the median of the paired ratios, and a t-interval of their
 * geometric mean (the mean of the log ratios; n is in the thousands, so the normal quantile).
 */
import { median } from "./support.ts";

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

const Z95 = 1.96;
const RESAMPLES = 2000;

/** A deterministic generator, so that a re-run of the statistics gives the same interval. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resample(values: readonly number[], random: () => number): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = values[Math.floor(random() * values.length)]!;
  }
  return out;
}

function percentileOf(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]!;
}

/**
 * 95 % percentile-bootstrap interval of `statistic` over groups of paired ratios (each group
 * resampled on its own: e.g. the median of the per-query medians).
 */
export function bootstrap(
  groups: readonly (readonly number[])[],
  statistic: (groups: readonly number[][]) => number,
): Interval {
  const random = generator(20_260_101);
  const estimates: number[] = [];
  for (let b = 0; b < RESAMPLES; b++) {
    estimates.push(statistic(groups.map((g) => resample(g, random))));
  }
  estimates.sort((x, y) => x - y);
  return {
    estimate: statistic(groups.map((g) => [...g])),
    low: percentileOf(estimates, 0.025),
    high: percentileOf(estimates, 0.975),
  };
}

/** Median of the paired ratios, with its bootstrap interval. */
export function medianRatio(ratios: readonly number[]): Interval {
  return bootstrap([ratios], ([g]) => median(g!));
}

/** Geometric mean of the paired ratios with a 95 % t-interval (on the log ratios). */
export function geometricMeanRatio(ratios: readonly number[]): Interval {
  const logs = ratios.map(Math.log);
  const n = logs.length;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const variance = logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const half = (Z95 * Math.sqrt(variance)) / Math.sqrt(n);
  return { estimate: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}

export function formatInterval(i: Interval): string {
  return `${i.estimate.toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`;
}
