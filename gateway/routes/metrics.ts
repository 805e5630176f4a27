import type { Metrics } from '../../pipeline/obs/metrics.js';
import type { Route } from '../http.js';

/** Prometheus exposition of the process's metrics registry (pipeline-wide figures are observed from Redis). */
export function metricsRoutes(deps: { metrics: Metrics; beforeScrape?: () => Promise<void> }): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/metrics$/,
      async handle({ res }) {
        await deps.beforeScrape?.();
        const body = await deps.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
        res.end(body);
      },
    },
  ];
}
