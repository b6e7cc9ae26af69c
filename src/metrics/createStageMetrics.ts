import type { Config } from '../config';
import type { Logger } from '../logger/createLogger';
import { EmfStageMetrics, type MetricsDiagnostics } from './EmfStageMetrics';
import { PrometheusStageMetrics } from './PrometheusStageMetrics';
import type { StageMetrics } from './StageMetrics';

/**
 * What config.metrics names: EMF (Powertools Metrics) on Lambda, the in-memory Prometheus registry
 * everywhere else (the embedded default serves it at GET /metrics).
 */
export function createStageMetrics(config: Pick<Config, 'metrics' | 'metricsNamespace' | 'serviceName'>, log: Logger): StageMetrics {
  if (config.metrics === 'prometheus') return new PrometheusStageMetrics();
  return new EmfStageMetrics({ namespace: config.metricsNamespace, serviceName: config.serviceName, logger: metricsDiagnostics(log) });
}

/**
 * Powertools Metrics warns when an invocation ends with no metric stored ("No application metrics to
 * publish"): a refused upload records none, so that warning would follow every 4xx. Its notes go to
 * the log at debug level; what it cannot publish still reaches the log as an error.
 */
function metricsDiagnostics(log: Logger): MetricsDiagnostics {
  return {
    debug: (...args: unknown[]) => log.debug(String(args[0])),
    info: (...args: unknown[]) => log.debug(String(args[0])),
    warn: (...args: unknown[]) => log.debug(String(args[0])),
    error: (...args: unknown[]) => log.error(String(args[0])),
  };
}
