export { createStageMetrics } from './createStageMetrics';
export { EmfStageMetrics } from './EmfStageMetrics';
export { PROMETHEUS_CONTENT_TYPE, PrometheusStageMetrics } from './PrometheusStageMetrics';
export { noopMetrics, STAGE_OUTCOMES, type StageMetrics, type StageOutcome } from './StageMetrics';
