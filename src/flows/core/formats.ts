/**
 * The string formats stage inputs may declare (`format` in a schema), and the date arithmetic
 * their bounds need. Workflow code: pure, and the only clock is the `now` the caller passes.
 */

export const FORMATS = ['date', 'email'] as const;
export type StringFormat = (typeof FORMATS)[number];

export interface CalendarDate {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
}

/** The seeds' wire form of a date (Attestr's `birthDate`): DD-MM-YYYY. */
const WIRE_DATE = /^(\d{2})-(\d{2})-(\d{4})$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The date a DD-MM-YYYY string names, or null when it names none (31-02-1990, 00-01-1990, year 0000). */
export function parseWireDate(text: string): CalendarDate | null {
  const match = WIRE_DATE.exec(text);
  if (!match) return null;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  return { year, month, day };
}

/**
 * Whole years from `born` to the calendar date of `now` in UTC, the time zone ages are computed
 * in (docs/guides/writing-flows.md): a birthday counts from 00:00 UTC, and someone born on
 * 29 February comes of age on 1 March in common years. Negative for a date after today.
 */
export function ageAt(born: CalendarDate, now: number): number {
  const today = new Date(now);
  const [year, month, day] = [today.getUTCFullYear(), today.getUTCMonth() + 1, today.getUTCDate()];
  const beforeBirthday = month < born.month || (month === born.month && day < born.day);
  return year - born.year - (beforeBirthday ? 1 : 0);
}

/**
 * An address a person could receive mail at, checked for shape only: one `@`, no spaces, a
 * domain of dot-separated labels with at least one dot, 254 characters at most (RFC 5321).
 */
export function isEmailAddress(text: string): boolean {
  if (text.length > 254) return false;
  const at = text.lastIndexOf('@');
  if (at < 1 || at > 64) return false;
  return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/u.test(text);
}
