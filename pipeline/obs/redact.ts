/**
 * The one place where secrets are taken out of text that leaves the process: every log line (the logger's
 * destination runs each serialised line through redactSecrets, whatever field or nested error carries it), and
 * every URL shown to API clients or written into a stream's state (redactUrl). Camera URLs routinely carry
 * `user:password@`; gateway tokens travel as `?token=`; configured secrets are registered (registerSecrets).
 */

const MASK = '***';

/**
 * `scheme://user:password@` -> `scheme://user:***@` anywhere in a text (JSON lines included). The password runs to
 * the last `@` before the host, as URL parsers read it, so an unencoded `@` or `:` in a password is masked whole.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#:@"'<>]*):([^\s/?#"'<>]*)@/gi;
/** Secret-looking query parameters: `?token=abc&password=x` -> `?token=***&password=***`. */
const SECRET_PARAM = /([?&](?:token|access_token|password|passwd|pwd|secret|api_key|apikey|key|signature|sig)=)([^&\s"'<>#]+)/gi;

/**
 * Values secret wherever they appear, which no pattern can recognise: configured passwords and webhook secrets,
 * webhook URL paths (a Home Assistant webhook id or a chat hook token is the path). Registered once at start.
 */
const knownSecrets = new Set<string>();
/** Shorter values would mask ordinary words. */
const MIN_KNOWN_SECRET_LENGTH = 4;

export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (value === undefined || value.length < MIN_KNOWN_SECRET_LENGTH) continue;
    knownSecrets.add(value);
    knownSecrets.add(encodeURIComponent(value));
  }
}

export function redactSecrets(text: string): string {
  let redacted = text.replace(URL_PASSWORD, (_match, scheme: string, user: string) => `${scheme}${user}:${MASK}@`).replace(SECRET_PARAM, `$1${MASK}`);
  for (const secret of knownSecrets) if (redacted.includes(secret)) redacted = redacted.split(secret).join(MASK);
  return redacted;
}

/** `https://user:pw@hooks.example:8443/api/webhook/SECRET?token=X` -> `https://hooks.example:8443`: names an endpoint. */
export function urlOrigin(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '<invalid url>';
  }
}

/** The parts of a URL that may be secret (userinfo, path, query), as written and decoded, for registerSecrets. */
export function urlSecretParts(url: string): string[] {
  try {
    const parsed = new URL(url);
    const parts = [parsed.username, parsed.password, parsed.search.slice(1), parsed.pathname === '/' ? '' : parsed.pathname];
    return parts.filter((part) => part.length > 0).flatMap((part) => [part, safeDecode(part)]);
  } catch {
    return [url];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A URL for display: its password and secret query parameters masked; anything unparsable is masked as text. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

/** Wraps a log destination so that nothing written through it carries a secret. */
export function redactingDestination(inner: { write(line: string): unknown }): { write(line: string): boolean } {
  return {
    write(line: string) {
      inner.write(redactSecrets(line));
      return true;
    },
  };
}
