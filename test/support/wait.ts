import type { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamState } from '../../pipeline/wire/v1.js';

/**
 * Polls `probe` until it returns a value (undefined, or a throw, means "not yet"), or fails after `timeoutMs` naming
 * what it waited for (`what` may be a function, to include output gathered meanwhile).
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string | (() => string), intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The stream's state once `predicate` holds for it, read from the registry. */
export async function waitForStreamState(
  registry: StreamRegistry,
  streamId: string,
  predicate: (state: StreamState) => boolean,
  timeoutMs: number,
): Promise<StreamState> {
  let last: StreamState | undefined;
  return waitUntil(
    async () => {
      last = (await registry.states()).get(streamId);
      return last && predicate(last) ? last : undefined;
    },
    timeoutMs,
    () => `stream ${streamId}: expected state, last ${JSON.stringify(last)}`,
    50,
  );
}
