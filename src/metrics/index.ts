export { noopMetrics, STAGE_OUTCOMES, type StageMetrics, type StageOutcome } from './StageMetrics';
export { EmfStageMetrics } from './EmfStageMetrics';
export { PrometheusStageMetrics, PROMETHEUS_CONTENT_TYPE } from './PrometheusStageMetrics';
export { createStageMetrics, metricsMode } from './createStageMetrics';
