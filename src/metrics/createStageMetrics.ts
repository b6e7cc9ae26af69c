import { EmfStageMetrics } from './EmfStageMetrics';
import { PrometheusStageMetrics } from './PrometheusStageMetrics';
import type { StageMetrics } from './StageMetrics';

export type MetricsMode = 'emf' | 'prometheus';

/**
 * EMF on Lambda (AWS_LAMBDA_FUNCTION_NAME is set there and by serverless-offline), the in-memory
 * Prometheus registry everywhere else (embedded default). METRICS=emf|prometheus overrides.
 */
export function metricsMode(env: Record<string, string | undefined> = process.env): MetricsMode {
  const forced = env.METRICS;
  if (forced === 'emf' || forced === 'prometheus') return forced;
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined ? 'emf' : 'prometheus';
}

export function createStageMetrics(env: Record<string, string | undefined> = process.env): StageMetrics {
  return metricsMode(env) === 'emf' ? new EmfStageMetrics() : new PrometheusStageMetrics();
}
