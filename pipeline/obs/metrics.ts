import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * All posestream metrics, defined once. Base units, counters end in _total, rates are left to PromQL.
 * Labels stay bounded: stream_id (configured streams), stage, reason, channel, worker.
 * The gateway observes results as they pass through Redis, so one scrape of the gateway covers the whole pipeline
 * whichever machines the ingest and inference processes run on.
 */
export function createMetrics(registry: Registry = new Registry()) {
  // Node's default metrics are named process_* and nodejs_*: prefixed once, posestream_process_cpu_seconds_total etc.
  collectDefaultMetrics({ register: registry, prefix: 'posestream_' });
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12];
  return {
    registry,
    framesIngested: new Counter({ name: 'posestream_frames_ingested_total', help: 'Frames published by ingest', labelNames: ['stream_id'], registers: [registry] }),
    framesDropped: new Counter({ name: 'posestream_frames_dropped_total', help: 'Frames dropped, by reason (stale: trimmed from a live queue unread or older than a published one; superseded: a newer live frame was read instead; ingest_behind, fps_cap, fps_cap_undecoded (non-reference frames left undecoded under the cap), corrupt, infer_error, ...)', labelNames: ['stream_id', 'reason'], registers: [registry] }),
    results: new Counter({ name: 'posestream_results_total', help: 'Pose results published', labelNames: ['stream_id'], registers: [registry] }),
    persons: new Counter({ name: 'posestream_persons_detected_total', help: 'Persons in published results', labelNames: ['stream_id'], registers: [registry] }),
    stageDuration: new Histogram({ name: 'posestream_stage_duration_seconds', help: 'Per-frame time in each stage (decode, queue, infer, post, gateway, total)', labelNames: ['stream_id', 'stage'], buckets: latencyBuckets, registers: [registry] }),
    queueDepth: new Gauge({ name: 'posestream_queue_depth', help: 'Frames waiting in the Redis frame stream', labelNames: ['stream_id'], registers: [registry] }),
    streamUp: new Gauge({ name: 'posestream_stream_up', help: '1 while the stream is running', labelNames: ['stream_id'], registers: [registry] }),
    streamRestarts: new Counter({ name: 'posestream_stream_restarts_total', help: 'Source pipeline restarts', labelNames: ['stream_id'], registers: [registry] }),
    batchSize: new Histogram({ name: 'posestream_batch_frames', help: 'Frames per inference batch', buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32], registers: [registry] }),
    workerOverCapacity: new Gauge({ name: 'posestream_worker_over_capacity', help: '1 while the worker drops live frames because it cannot serve every frame offered (workers/inference/overload-monitor.ts)', labelNames: ['worker'], registers: [registry] }),
    workerEngineMode: new Gauge({ name: 'posestream_worker_engine_mode', help: 'model.hint ADAPTIVE: 1 while the worker runs the model compiled for throughput, 0 for latency (workers/inference/adaptive-engine.ts)', labelNames: ['worker'], registers: [registry] }),
    workerUtilisation: new Gauge({ name: 'posestream_worker_utilisation_ratio', help: 'Share of time the worker had inference in flight', labelNames: ['worker'], registers: [registry] }),
    wsClients: new Gauge({ name: 'posestream_ws_clients', help: 'Connected WebSocket clients', registers: [registry] }),
    wsDropped: new Counter({ name: 'posestream_ws_dropped_messages_total', help: 'Messages dropped for slow WebSocket clients', labelNames: ['channel'], registers: [registry] }),
    wsRejected: new Counter({ name: 'posestream_ws_rejected_total', help: 'WebSocket connections or messages rejected', labelNames: ['reason'], registers: [registry] }),
    // Notifier. sink = "mqtt" or "webhook:<name>" (configured endpoints only), or the sink kind for entries that
    // never reached a sink (reason invalid/trimmed).
    notifyDelivered: new Counter({ name: 'posestream_notify_delivered_total', help: 'Pose events delivered to a sink', labelNames: ['sink'], registers: [registry] }),
    notifyFailed: new Counter({ name: 'posestream_notify_failed_total', help: 'Failed delivery attempts (each retry counts)', labelNames: ['sink'], registers: [registry] }),
    notifyDropped: new Counter({ name: 'posestream_notify_dropped_total', help: 'Pose events a sink gave up on, by reason (queue_full, retries_exhausted, rejected, invalid, trimmed)', labelNames: ['sink', 'reason'], registers: [registry] }),
    notifyQueueDepth: new Gauge({ name: 'posestream_notify_queue_depth', help: 'Events waiting for a sink in the notifier', labelNames: ['sink'], registers: [registry] }),
    notifyConnected: new Gauge({ name: 'posestream_notify_connected', help: '1 while the sink is connected (MQTT broker)', labelNames: ['sink'], registers: [registry] }),
    // Redis replication (redis.losslessReplicas): lossless writes that went on with fewer replica copies than asked
    // (WAIT timed out: a shard without a replica in sync); they are lost if their master dies before replicating.
    redisUnreplicated: new Counter({ name: 'posestream_redis_unreplicated_writes_total', help: 'Lossless frame publishes (role=ingest) and result commits (role=worker) not confirmed by the asked replicas in time', labelNames: ['role'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
