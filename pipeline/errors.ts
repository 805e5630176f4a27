/**
 * One error type for the whole pipeline. `code` is stable (PS_<AREA>_<WHAT>) so that logs, REST bodies and
 * WebSocket error messages can be matched by machines; `publicMessage` is what a remote client may see.
 */
export class PosestreamError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly publicMessage: string;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean; publicMessage?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PosestreamError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.publicMessage = options.publicMessage ?? message;
  }
}

export function isPosestreamError(error: unknown): error is PosestreamError {
  return error instanceof PosestreamError;
}

/** A short human-readable reason for any thrown value, for logs and state reports. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
