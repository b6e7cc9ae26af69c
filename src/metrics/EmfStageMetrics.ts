import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { StageName } from '../domain/stages';
import type { StageMetrics, StageOutcome } from './StageMetrics';

/** EMF metric names: one count per outcome, and the duration of each attempt. */
export const EMF_METRIC_NAMES: Record<StageOutcome, string> = {
  processed: 'processed',
  retried: 'retried',
  failed: 'failed',
  'dead-lettered': 'dead_lettered',
};
export const EMF_DURATION_METRIC = 'duration';

/** What Powertools Metrics logs its own notes with. */
export type MetricsDiagnostics = Record<'debug' | 'info' | 'warn' | 'error', (...content: unknown[]) => void>;

export interface EmfStageMetricsOptions {
  /** CloudWatch namespace (config: POWERTOOLS_METRICS_NAMESPACE). */
  namespace: string;
  /** The `service` dimension (config: POWERTOOLS_SERVICE_NAME). */
  serviceName: string;
  /** Where Powertools Metrics says what it could not publish (the app's logger). */
  logger?: MetricsDiagnostics;
}

/**
 * On Lambda: the stage's counts and durations as CloudWatch embedded metric format, dimensions
 * `service` and `stage`. They are stored during the invocation and printed as one line at its end
 * by Powertools' `logMetrics` middleware (functions/<stage>/handler.ts), which also counts cold
 * starts. One function is one stage; should a caller record another stage, what was stored is
 * printed first, so no line mixes two stages. Synchronous, so no await can interleave two records.
 */
export class EmfStageMetrics implements StageMetrics {
  readonly emf: Metrics;
  private stage: StageName | undefined;

  constructor(options: EmfStageMetricsOptions) {
    this.emf = new Metrics({
      namespace: options.namespace,
      serviceName: options.serviceName,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  recordStage(stage: StageName, outcome: StageOutcome, durationMs?: number): void {
    if (this.emf.hasStoredMetrics() && this.stage !== stage) this.emf.publishStoredMetrics();
    // Publishing clears the dimensions with the metrics: add the stage again to a fresh set.
    if (!this.emf.hasStoredMetrics()) this.emf.addDimension('stage', stage);
    this.stage = stage;
    this.emf.addMetric(EMF_METRIC_NAMES[outcome], MetricUnit.Count, 1);
    if (durationMs !== undefined) this.emf.addMetric(EMF_DURATION_METRIC, MetricUnit.Milliseconds, durationMs);
  }

  /** Prints what is stored (logMetrics does this at the end of each invocation). */
  flush(): void {
    if (this.emf.hasStoredMetrics()) this.emf.publishStoredMetrics();
  }
}
