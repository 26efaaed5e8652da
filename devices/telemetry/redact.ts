// Secret redaction for telemetry logs and errors: whatever text leaves the transport (log lines,
// error messages, a printable description of the connection options) passes through here first.
// It is not a sanitizer for arbitrary input; it removes the exact secrets it was given (password,
// private key, and the password part of a URL's user-info).

export const REDACTED = '***';

export interface SecretSource {
  readonly url?: string;
  readonly password?: string | Buffer;
  readonly key?: string | Buffer;
}

/** Returns the distinct secret strings to scrub, longest first (so a secret containing another is
 * replaced whole). Empty or very short strings are kept: a 1-character password is still secret. */
export function secretsOf(s: SecretSource): string[] {
  const out = new Set<string>();
  const add = (v: string | Buffer | undefined): void => {
    if (v === undefined) return;
    const t = typeof v === 'string' ? v : v.toString('utf8');
    if (t.length === 0) return;
    out.add(t);
    // A PEM key is also scrubbed line by line: a library may quote one line of it.
    if (t.includes('\n')) {
      for (const line of t.split('\n')) {
        const l = line.trim();
        if (l.length >= 8 && !l.startsWith('-----')) out.add(l);
      }
    }
  };
  add(s.password);
  add(s.key);
  if (s.url !== undefined) {
    const pw = urlPassword(s.url);
    if (pw !== null) { add(pw); add(encodeURIComponent(pw)); }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

function urlPassword(url: string): string | null {
  try {
    const u = new URL(url);
    return u.password.length > 0 ? decodeURIComponent(u.password) : null;
  } catch {
    return null;
  }
}

export function redactText(text: string, secrets: readonly string[]): string {
  let t = text;
  for (const s of secrets) if (t.includes(s)) t = t.split(s).join(REDACTED);
  return t;
}

/** A URL safe to print: the user-info password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password.length > 0) u.password = REDACTED;
    return u.toString();
  } catch {
    return '<unparsable url>';
  }
}
