/**
 * docs/reference/http-api.md lists every operation /openapi.json describes, and nothing else:
 * its route table is checked against the document the api serves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawCall } from './helpers/api';
import { useStack } from './helpers/use-stack';

const { api } = useStack('api-reference', { api: {} });

const PAGE = readFileSync(join(__dirname, '..', 'docs', 'reference', 'http-api.md'), 'utf8');

/** The rows of the page's route table, as "METHOD /path | summary". */
function documentedRoutes(): string[] {
  const start = PAGE.indexOf('| method | path | what it does |');
  expect(start).toBeGreaterThan(-1);
  const rows: string[] = [];
  for (const line of PAGE.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [method, path, summary] = line.split('|').slice(1, 4).map((cell) => cell.trim().replace(/`/g, ''));
    rows.push(`${method} ${path} | ${summary}`);
  }
  return rows;
}

test("the route table is exactly /openapi.json's operations, with their summaries", async () => {
  const spec = (await rawCall(api.url, 'GET', '/openapi.json', {})).body as {
    paths: Record<string, Record<string, { summary?: string }>>;
  };
  const served = Object.entries(spec.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => `${method.toUpperCase()} ${path} | ${operation.summary ?? ''}`),
  );
  expect(documentedRoutes().sort()).toEqual(served.sort());
});
