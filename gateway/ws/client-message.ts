import { clientMessageSchema, MAX_CLIENT_MESSAGE_BYTES, type ClientMessage } from '../../pipeline/wire/v1.js';

/**
 * Validates one WebSocket message from a client against the v1 schema. Every rejection names the problem, so a
 * client developer can fix it from the error message alone; nothing here throws.
 */

export type ParsedClientMessage =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: string; message: string; id?: string };

const KNOWN_TYPES = new Set(['subscribe', 'unsubscribe', 'ping']);

export function parseClientMessage(data: Buffer | string, isBinary: boolean): ParsedClientMessage {
  if (isBinary) {
    return { ok: false, code: 'PS_WS_BINARY', message: 'binary messages are not accepted; send JSON text' };
  }
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > MAX_CLIENT_MESSAGE_BYTES) {
    return {
      ok: false,
      code: 'PS_WS_TOO_BIG',
      message: `message of ${size} bytes exceeds the limit of ${MAX_CLIENT_MESSAGE_BYTES} bytes`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(data.toString());
  } catch (error) {
    return { ok: false, code: 'PS_WS_BAD_JSON', message: `message is not valid JSON: ${(error as Error).message}` };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, code: 'PS_WS_BAD_MESSAGE', message: 'message must be a JSON object' };
  }
  const record = json as Record<string, unknown>;
  const id = typeof record.id === 'string' ? record.id.slice(0, 64) : undefined;
  if (!KNOWN_TYPES.has(String(record.type))) {
    return {
      ok: false,
      code: 'PS_WS_UNKNOWN_TYPE',
      message: `unknown message type ${JSON.stringify(record.type ?? null)} (expected one of ${[...KNOWN_TYPES].join(', ')})`,
      id,
    };
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(message)';
      const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` (${issue.keys.join(', ')})` : '';
      return `${where}: ${issue.message}${keys}`;
    });
    return { ok: false, code: 'PS_WS_INVALID', message: `invalid ${String(record.type)} message: ${problems.join('; ')}`, id };
  }
  return { ok: true, message: parsed.data };
}
