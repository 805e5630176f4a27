import type { WebhookSinkConfig } from '../../../config/notify.js';
import type { EventDelivery, Sink } from '../sink.js';
import { WebhookEndpoint, type WebhookEndpointOptions } from './endpoint.js';

/**
 * Fans each event out to the endpoints whose filters accept it. The event's Redis entry is acknowledged when every
 * one of them settled it (delivered, or dropped and counted); until then it stays pending, so events a stop or a
 * crash interrupted are delivered again by the next run. Each endpoint has its own bounded queue, so a dead
 * endpoint costs only its own queue and never delays another endpoint or the reading of Redis.
 */
export class WebhookSink implements Sink {
  readonly kind = 'webhook';
  readonly maxInFlight: number;
  private readonly endpoints: WebhookEndpoint[];

  constructor(configs: readonly WebhookSinkConfig[], options: WebhookEndpointOptions) {
    this.endpoints = configs.map((config) => new WebhookEndpoint(config, options));
    // Each pending event holds a place in at least one endpoint's queue (or its one delivery in flight).
    this.maxInFlight = configs.reduce((sum, config) => sum + config.queueLimit + 1, 0);
  }

  ready(): boolean {
    return true;
  }

  deliver(delivery: EventDelivery): void {
    const targets = this.endpoints.filter((endpoint) => endpoint.accepts(delivery.event));
    if (targets.length === 0) return delivery.settle('delivered');
    const body = JSON.stringify(delivery.event);
    let remaining = targets.length;
    let delivered = 0;
    for (const endpoint of targets) {
      endpoint.enqueue({
        event: delivery.event,
        body,
        done: (outcome) => {
          if (outcome === 'delivered') delivered += 1;
          remaining -= 1;
          if (remaining === 0) delivery.settle(delivered > 0 ? 'delivered' : 'dropped');
        },
      });
    }
  }

  async close(): Promise<void> {
    for (const endpoint of this.endpoints) endpoint.close();
  }
}
