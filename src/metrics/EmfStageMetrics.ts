import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { StageName } from '../status/stageStatus';
import type { StageMetrics, StageOutcome } from './StageMetrics';

/** EMF metric names: one count per outcome, and the duration of each attempt. */
export const EMF_METRIC_NAMES: Record<StageOutcome, string> = {
  processed: 'processed',
  retried: 'retried',
  failed: 'failed',
  'dead-lettered': 'dead_lettered',
};
export const EMF_DURATION_METRIC = 'duration';

export interface EmfStageMetricsOptions {
  /** CloudWatch namespace; default POWERTOOLS_METRICS_NAMESPACE, else `ImagePipeline`. */
  namespace?: string;
  /** The `service` dimension; default POWERTOOLS_SERVICE_NAME, else `image-pipeline`. */
  serviceName?: string;
  /** A ready Metrics instance (tests). */
  metrics?: Metrics;
}

/**
 * On Lambda: each call prints one CloudWatch embedded-metric-format line to stdout (Lambda ships
 * it to CloudWatch Logs, which turns it into metrics), dimensions `service` and `stage`. The line
 * is written at once, not buffered until the end of the invocation, so a batch's records never mix
 * their dimensions and nothing is lost when the function times out. Synchronous, so no await can
 * interleave two records' dimensions on the shared instance.
 */
export class EmfStageMetrics implements StageMetrics {
  readonly metrics: Metrics;

  constructor(options: EmfStageMetricsOptions = {}) {
    this.metrics =
      options.metrics ??
      new Metrics({
        namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ImagePipeline',
        serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'image-pipeline',
      });
  }

  recordStage(stage: StageName, outcome: StageOutcome, durationMs?: number): void {
    this.metrics.addDimension('stage', stage);
    this.metrics.addMetric(EMF_METRIC_NAMES[outcome], MetricUnit.Count, 1);
    if (durationMs !== undefined) this.metrics.addMetric(EMF_DURATION_METRIC, MetricUnit.Milliseconds, durationMs);
    this.metrics.publishStoredMetrics();
  }
}
