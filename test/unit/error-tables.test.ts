/**
 * The error tables of docs/reference/errors.md list exactly the codes the api answers: BACKEND_CODES and
 * DEVICE_ERROR_CODES, which the error classes are typed by (no other code compiles) and which
 * /openapi.json gives as the `code` enums (Schemathesis checks every answer against them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_CODES, BACKEND_ERROR_CODES, DEVICE_ERROR_CODES } from '../../src/api/errors';

const ERRORS_PAGE = readFileSync(join(__dirname, '..', '..', 'docs', 'reference', 'errors.md'), 'utf8');

/** The rows of the first Markdown table after `marker`, as [HTTP column, code column]. */
function tableAfter(marker: string): Array<[string, string]> {
  const start = ERRORS_PAGE.indexOf(marker);
  expect(start).toBeGreaterThan(-1);
  const lines = ERRORS_PAGE.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: Array<[string, string]> = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const [http, code] = line.split('|').slice(1, 3).map((cell) => cell.trim());
    rows.push([http, code]);
  }
  return rows;
}

test("the backend error table: exactly the api's codes, each with its status", () => {
  const rows = tableAfter('Errors are `{ "code", "message", "details"? }`:');
  const codesIn = (cell: string): string[] => cell.match(/\b\d{4,5}\b/g) ?? [];
  const codes = new Set(rows.flatMap(([, code]) => codesIn(code).map(Number)));
  expect([...codes].sort()).toEqual([...BACKEND_ERROR_CODES].sort());
  for (const code of BACKEND_ERROR_CODES) {
    const status = String(BACKEND_CODES[code].status);
    expect(rows.some(([http, cell]) => http.includes(status) && codesIn(cell).includes(String(code)))).toBe(true);
  }
});

test("the device error table: exactly the api's codes", () => {
  const rows = tableAfter('`code` is one of:');
  const codes = new Set(rows.flatMap(([, code]) => [...code.matchAll(/`([a-z_]+)`/g)].map((m) => m[1])));
  expect([...codes].sort()).toEqual([...DEVICE_ERROR_CODES].sort());
});
