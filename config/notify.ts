import { z } from 'zod';
import { streamIdFormat } from '../pipeline/streams/definition.js';
import { POSE_EVENT_TYPES } from '../pipeline/wire/v1.js';

/**
 * The `notify:` section: where pose events are delivered (MQTT with Home Assistant discovery, webhooks). Secrets
 * (MQTT password, webhook secrets, credentials or tokens in URLs) come from here and must never be logged: the
 * notifier logs endpoints by name and origin only. Use `${VAR}` substitution to keep them out of the file.
 */


/** An MQTT topic level we build on: no wildcards, no empty levels, no leading/trailing "/". */
const topicPrefixSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/#+\s]+(\/[^/#+\s]+)*$/, 'must be topic levels separated by "/", without "#", "+", spaces or empty levels');

function urlWithProtocol(protocols: readonly string[]) {
  return z.string().superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      // Never echo the value: it may carry credentials.
      ctx.addIssue({ code: 'custom', message: 'is not a valid URL' });
      return;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({ code: 'custom', message: `unsupported scheme "${url.protocol}" (use ${protocols.map((p) => `${p}//`).join(', ')})` });
    } else if (url.hostname === '') {
      ctx.addIssue({ code: 'custom', message: 'has no host' });
    }
  });
}

export const mqttSinkSchema = z
  .object({
    /** mqtt://host:1883, mqtts://host:8883, ws(s)://host/mqtt. */
    url: urlWithProtocol(['mqtt:', 'mqtts:', 'ws:', 'wss:']),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** Default posestream-<hostname>-<pid>: two processes with one client id would disconnect each other forever. */
    clientId: z.string().min(1).max(128).optional(),
    /** Every posestream topic lives under it: <prefix>/status, <prefix>/<stream>/... */
    topicPrefix: topicPrefixSchema.default('posestream'),
    /** Home Assistant's MQTT discovery prefix. */
    discoveryPrefix: topicPrefixSchema.default('homeassistant'),
    /** Publish Home Assistant discovery configs (retained). */
    discovery: z.boolean().default(true),
    /** 1 (default): an event is acknowledged in Redis only after the broker acknowledged it. */
    qos: z.literal([0, 1, 2], { error: 'must be 0, 1 or 2' }).default(1),
    /** Retain state topics (fall ON/OFF, zone occupancy) so Home Assistant gets them after its own restart. */
    retainState: z.boolean().default(true),
    /** Delay between reconnect attempts to a dead broker. */
    reconnectMs: z.number().int().min(100).max(300_000).default(2_000),
  })
  .strict();

export const WEBHOOK_DROP_POLICIES = ['drop-oldest', 'drop-newest'] as const;

export const webhookSinkSchema = z
  .object({
    /** Names the endpoint in metrics (sink="webhook:<name>") and logs; the URL is never logged. */
    name: streamIdFormat,
    /** http(s)://[user:password@]host/path; userinfo becomes a Basic Authorization header. */
    url: urlWithProtocol(['http:', 'https:']),
    /** HMAC-SHA256 key for X-Posestream-Signature. */
    secret: z.string().min(16, 'must be at least 16 characters'),
    /** Only events of these streams (default: every stream). */
    streams: z.array(streamIdFormat).min(1).optional(),
    /** Only events of these types (default: every type). */
    types: z.array(z.enum(POSE_EVENT_TYPES)).min(1).optional(),
    /** Events waiting for this endpoint behind the one being delivered; past it `dropPolicy` applies. */
    queueLimit: z.number().int().min(1).max(100_000).default(1_000),
    /**
     * drop-oldest: a new event evicts the oldest waiting one (recent events matter most);
     * drop-newest: a new event is refused while the queue is full (the backlog is delivered in order).
     */
    dropPolicy: z.enum(WEBHOOK_DROP_POLICIES).default('drop-oldest'),
    /** Attempts per event (first try included) before it is dropped as retries_exhausted. */
    maxAttempts: z.number().int().min(1).max(100).default(8),
    /** Retry delays: exponential from retryInitialMs, capped at retryMaxMs, with full jitter. */
    retryInitialMs: z.number().int().min(10).max(600_000).default(1_000),
    retryMaxMs: z.number().int().min(10).max(3_600_000).default(60_000),
    /** One attempt fails after this long without a response. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict()
  .superRefine((hook, ctx) => {
    if (hook.retryMaxMs < hook.retryInitialMs) ctx.addIssue({ code: 'custom', path: ['retryMaxMs'], message: 'must be >= retryInitialMs' });
  });

export const notifySchema = z
  .object({
    /**
     * Consumer name in the notify consumer groups (default: the host name). Keep it stable: a restarted notifier
     * first re-delivers the events its predecessor of the same name read but never acknowledged.
     */
    consumer: z.string().min(1).max(128).optional(),
    mqtt: mqttSinkSchema.optional(),
    webhooks: z.array(webhookSinkSchema).default([]),
  })
  .strict()
  .superRefine((notify, ctx) => {
    const seen = new Map<string, number>();
    notify.webhooks.forEach((hook, index) => {
      const first = seen.get(hook.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['webhooks', index, 'name'], message: `duplicate webhook name "${hook.name}" (also webhooks[${first}])` });
      else seen.set(hook.name, index);
    });
  });

export type NotifyConfig = z.infer<typeof notifySchema>;
export type MqttSinkConfig = z.infer<typeof mqttSinkSchema>;
export type WebhookSinkConfig = z.infer<typeof webhookSinkSchema>;

/** True when the config names at least one sink (otherwise `posestream run` does not start the notifier). */
export function hasNotifySinks(notify: NotifyConfig): boolean {
  return notify.mqtt !== undefined || notify.webhooks.length > 0;
}
