/**
 * Whether two person names are the same name, as kyc-basic asks of the typed name and the one
 * the national ID check returned (docs/guides/writing-flows.md, "namesMatch"). Pure and
 * deterministic: it runs in the flow engine inside workflow code.
 *
 * Both names are normalised (Unicode compatibility forms, accents dropped, lower case, every
 * run of punctuation or whitespace one separator) and split into words; a one-letter word is an
 * initial. They match when every word of the name with fewer words pairs off with a different
 * word of the other, in any order: equal words, or an initial with a word (or initial) of the
 * same first letter; at least one pair is two equal whole words; and the shorter name has at
 * least two words unless the other has one. So "R. Kumar Sharma" matches "Sharma Rajesh Kumar",
 * "Rajesh Sharma" matches "Rajesh Kumar Sharma" (a middle name left out), and "R. K." or
 * "Sharma" alone matches nothing longer. A mismatch never refuses anything by itself: the flow
 * sends the session to a person.
 */

/** The words of a name, normalised: `"  José  D'Souza-Pinto "` gives `["jose", "d", "souza", "pinto"]`. */
export function nameWords(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

function pairs(short: string, long: string, exact: boolean): boolean {
  if (exact) return short === long && short.length > 1;
  return (short.length === 1 || long.length === 1) && short[0] === long[0];
}

/** Whether the two names are the same name (see above). Anything but two strings is no match. */
export function namesMatch(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const [short, long] = [nameWords(a), nameWords(b)].sort((x, y) => x.length - y.length);
  if (short.length === 0 || (short.length < 2 && long.length > 1)) return false;
  const free = [...long];
  let whole = 0;
  const unmatched: string[] = [];
  // Whole words first, so an initial never takes the word a whole word needed.
  for (const word of short) {
    const at = free.findIndex((other) => pairs(word, other, true));
    if (at === -1) unmatched.push(word);
    else {
      free.splice(at, 1);
      whole += 1;
    }
  }
  for (const word of unmatched) {
    // An initial takes an initial before a whole word, leaving whole words for the others.
    const initial = free.findIndex((other) => other.length === 1 && pairs(word, other, false));
    const at = initial !== -1 ? initial : free.findIndex((other) => pairs(word, other, false));
    if (at === -1) return false;
    free.splice(at, 1);
  }
  return whole > 0;
}
