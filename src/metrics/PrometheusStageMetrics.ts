import { STAGES, type StageName } from '../domain/stages';
import { STAGE_OUTCOMES, type StageMetrics, type StageOutcome } from './StageMetrics';

/** Histogram buckets for a stage's duration, in seconds (upload takes ms, detect ~50-500 ms). */
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const COUNTERS: Record<StageOutcome, { name: string; help: string }> = {
  processed: { name: 'pipeline_stage_processed_total', help: 'Messages a stage finished (its output written and the next message sent).' },
  retried: { name: 'pipeline_stage_retried_total', help: 'Attempts that failed with a transient fault; the queue redelivers the message.' },
  failed: { name: 'pipeline_stage_failed_total', help: 'Attempts after which the stage failed for good for its image.' },
  'dead-lettered': {
    name: 'pipeline_stage_dead_lettered_total',
    help: 'Messages moved to the dead-letter queue (invalid, permanent failure, or out of receives).',
  },
};
const DURATION = 'pipeline_stage_duration_seconds';

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

function formatNumber(n: number): string {
  if (n === Infinity) return '+Inf';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12)));
}

/**
 * The embedded default's metrics: the same figures as EMF, kept in memory for the life of the
 * process and rendered in the Prometheus text exposition format (version 0.0.4) for `GET /metrics`:
 * one counter per outcome and a duration histogram, each labelled by stage. Every stage has its
 * series from the start (at 0), so a dashboard sees a stage that has not run yet.
 */
export class PrometheusStageMetrics implements StageMetrics {
  private readonly counts = new Map<StageName, Record<StageOutcome, number>>();
  private readonly durations = new Map<StageName, Histogram>();

  constructor() {
    for (const stage of STAGES) {
      this.counts.set(stage, { processed: 0, retried: 0, failed: 0, 'dead-lettered': 0 });
      this.durations.set(stage, { buckets: DURATION_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 });
    }
  }

  recordStage(stage: StageName, outcome: StageOutcome, durationMs?: number): void {
    const counts = this.counts.get(stage);
    const histogram = this.durations.get(stage);
    if (!counts || !histogram) return;
    counts[outcome] += 1;
    if (durationMs === undefined || !Number.isFinite(durationMs)) return;
    const seconds = Math.max(0, durationMs) / 1000;
    DURATION_BUCKETS_SECONDS.forEach((le, i) => {
      if (seconds <= le) histogram.buckets[i]! += 1;
    });
    histogram.sum += seconds;
    histogram.count += 1;
  }

  /** The count of one outcome for one stage (tests, the gallery). */
  count(stage: StageName, outcome: StageOutcome): number {
    return this.counts.get(stage)?.[outcome] ?? 0;
  }

  /** Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    for (const outcome of STAGE_OUTCOMES) {
      const { name, help } = COUNTERS[outcome];
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const stage of STAGES) lines.push(`${name}{stage="${stage}"} ${this.count(stage, outcome)}`);
    }
    lines.push(`# HELP ${DURATION} Time one attempt of a stage took, in seconds (every outcome).`, `# TYPE ${DURATION} histogram`);
    for (const stage of STAGES) {
      const h = this.durations.get(stage)!;
      for (const [i, le] of DURATION_BUCKETS_SECONDS.entries()) {
        lines.push(`${DURATION}_bucket{stage="${stage}",le="${formatNumber(le)}"} ${h.buckets[i]}`);
      }
      lines.push(`${DURATION}_bucket{stage="${stage}",le="+Inf"} ${h.count}`);
      lines.push(`${DURATION}_sum{stage="${stage}"} ${formatNumber(h.sum)}`);
      lines.push(`${DURATION}_count{stage="${stage}"} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
