import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type METRIC_DIMENSIONS, METRIC_NAMESPACE, type MetricName } from './metric-names';

export type MetricDimensionName = (typeof METRIC_DIMENSIONS)[keyof typeof METRIC_DIMENSIONS];

/** The CloudWatch units zoho-sync's metrics use. */
export type MetricsUnit = 'Count' | 'Percent';

/**
 * What lib/ needs from a metrics library: count one event with its own dimensions. A narrow
 * seam so that tests can pass a recorder that keeps the counts in memory, and lib/ code never
 * depends on how Powertools buffers and flushes.
 */
export interface MetricsRecorder {
  /**
   * Emits one data point with these dimensions, at once.
   * @param value @default 1
   * @param unit @default 'Count'
   */
  count(
    name: MetricName,
    dimensions?: Partial<Record<MetricDimensionName, string>>,
    value?: number,
    unit?: MetricsUnit,
  ): void;
}

/**
 * Records through Powertools Metrics. Each data point is a `singleMetric()`, flushed as its own
 * EMF line straight away: these are rare events (failures, alerts) whose dimensions differ per
 * point, and nothing is lost if the handler never calls `publishStoredMetrics()`.
 */
export const createPowertoolsMetricsRecorder = (
  metrics: Metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'zoho-sync' }),
): MetricsRecorder => ({
  count(name, dimensions = {}, value = 1, unit = 'Count') {
    const single = metrics.singleMetric();
    for (const [dimension, dimensionValue] of Object.entries(dimensions)) {
      if (dimensionValue !== undefined && dimensionValue !== '') {
        single.addDimension(dimension, dimensionValue);
      }
    }
    single.addMetric(name, unit === 'Percent' ? MetricUnit.Percent : MetricUnit.Count, value);
  },
});

/** A recorder that drops everything: for code paths whose metrics a caller does not want. */
export const noMetrics: MetricsRecorder = { count: () => undefined };
