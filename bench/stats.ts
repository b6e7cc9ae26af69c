/** Small statistics shared by the benchmarks. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Calls fn repeatedly for about budgetMs (at least minRuns times) and returns each run's ms. */
export async function timeRuns(fn: () => Promise<unknown>, budgetMs: number, minRuns = 5): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while (times.length < minRuns || performance.now() < end) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}
