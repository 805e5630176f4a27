/**
 * Share of wall time with at least one inference batch in flight, per sampling interval: the worker's
 * utilisation (near 1 = saturated, add workers; near 0 = idle).
 */
export class BusyClock {
  private active = 0;
  private busySince = 0;
  private busyMs = 0;
  private sampledAt: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.sampledAt = now();
  }

  start(): void {
    if (this.active++ === 0) this.busySince = this.now();
  }

  end(): void {
    if (--this.active === 0) this.busyMs += this.now() - this.busySince;
  }

  /** Utilisation since the previous sample, 0..1. */
  sample(): number {
    const now = this.now();
    let busy = this.busyMs;
    if (this.active > 0) {
      busy += now - this.busySince;
      this.busySince = now;
    }
    const elapsed = now - this.sampledAt;
    this.busyMs = 0;
    this.sampledAt = now;
    return elapsed > 0 ? Math.min(1, busy / elapsed) : 0;
  }
}
