/** Which URLs a tenant's users may be sent to: the device handshake's redirect and the hosted page's returnUrl. */

/**
 * Percent-encoded dot, slash, backslash, percent or semicolon: a path that means something else
 * once decoded.
 */
const ENCODED_TRAVERSAL = /%(2e|2f|5c|25|3b)/i;
/**
 * Whether `target` may receive a redirect for this tenant: an absolute http(s) URL without
 * credentials whose origin equals an allow-listed URL's and whose path is that URL's path or
 * below it. Only printable ASCII is accepted (a URL carries anything else percent-encoded, and a
 * Location header cannot carry CR/LF or non-Latin-1 at all), and the path is compared in its
 * normalised form (the URL parser resolves `.` and `..`), refusing what a server behind the
 * allowed path could read as a traversal out of it that the URL parser does not see:
 * - a `;` in the path: servlet containers drop path parameters, so `/done/..;/admin` is their
 *   `/done/../admin`, i.e. `/admin`, while the URL parser sees a segment named `..;`;
 * - a backslash anywhere: browsers read it as `/` in http(s) URLs, other clients do not;
 * - encoded dots, slashes, backslashes, percents and semicolons, which a server may decode
 *   into any of the above.
 */
export function redirectAllowed(target: string, allowList: string[]): boolean {
  if (!/^[\x21-\x7e]+$/.test(target)) return false;
  if (target.includes('\\')) return false;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false; // relative and protocol-relative URLs have no base here: refused
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username || url.password) return false;
  if (ENCODED_TRAVERSAL.test(url.pathname) || url.pathname.includes(';')) return false;
  return allowList.some((allowed) => {
    const entry = new URL(allowed);
    // Whole path segments only: /callback allows /callback/x but not /callbackevil.
    const base = entry.pathname.endsWith('/') ? entry.pathname : `${entry.pathname}/`;
    return entry.origin === url.origin && (url.pathname === entry.pathname || url.pathname.startsWith(base));
  });
}
