export { type Logger, logger } from './logger';
export {
  METRIC_DIMENSIONS,
  METRIC_NAMESPACE,
  METRICS,
  type MetricName,
} from './metric-names';
export {
  createPowertoolsMetricsRecorder,
  type MetricDimensionName,
  type MetricsRecorder,
  type MetricsUnit,
  noMetrics,
} from './metrics';
export { redact, redactingJsonReplacer, registerSecretValues } from './redact';
