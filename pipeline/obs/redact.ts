/**
 * The one place where secrets are taken out of text that leaves the process: every log line (the logger's
 * destination runs each serialised line through redactSecrets, whatever field or nested error carries it), and
 * every URL shown to API clients or written into a stream's state (redactUrl). Camera URLs routinely carry
 * `user:password@`; gateway tokens travel as `?token=`.
 */

const MASK = '***';

/**
 * `scheme://user:password@` -> `scheme://user:***@` anywhere in a text (JSON lines included). The password runs to
 * the last `@` before the host, as URL parsers read it, so an unencoded `@` or `:` in a password is masked whole.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#:@"'<>]*):([^\s/?#"'<>]*)@/gi;
/** Secret-looking query parameters: `?token=abc&password=x` -> `?token=***&password=***`. */
const SECRET_PARAM = /([?&](?:token|access_token|password|passwd|pwd|secret|api_key|apikey|key|signature|sig)=)([^&\s"'<>#]+)/gi;

export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, (_match, scheme: string, user: string) => `${scheme}${user}:${MASK}@`).replace(SECRET_PARAM, `$1${MASK}`);
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
