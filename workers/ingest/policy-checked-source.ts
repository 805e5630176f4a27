import type { FrameSource, SourceEvent, SourceStart } from './frame-source.js';

/**
 * A source added through the REST API, checked against the source policy right before every (re)open: the gateway
 * checked it at registration, but a DNS name can point elsewhere by now (rebinding), and an entry may have reached
 * the registry some other way. A refusal is an open() failure like any other: the stream reports `error` with the
 * policy's reason and retries with back-off (checking again each time); the decoder is never started for it.
 */
export class PolicyCheckedSource implements FrameSource {
  constructor(
    private readonly inner: FrameSource,
    private readonly check: () => Promise<void>,
  ) {}

  get finite(): boolean {
    return this.inner.finite;
  }

  async open(from?: SourceStart): Promise<void> {
    await this.check();
    return this.inner.open(from);
  }

  next(): Promise<SourceEvent> {
    return this.inner.next();
  }

  close(): void {
    this.inner.close();
  }
}
