// Small helpers shared by the phases.

/** The value at `quantile` (0..1) of ascending samples: the nearest-rank percentile. */
export function percentile(sorted: Float64Array, quantile: number): number {
  return sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
