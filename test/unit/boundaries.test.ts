/**
 * The import rules of src/, read from docs/ARCHITECTURE.md's table ("Folders and what each may
 * import"), checked on dependency-cruiser's graph of the run-time imports: what is left once
 * TypeScript erases the types, so a type-only import crosses any line. Also no cycle, at most
 * five floors, and the rules the table does not hold: workflow code imports only workflow code,
 * and a route file never imports another.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../..');
const TABLE_HEADING = '## Folders and what each may import';
const MAX_FLOORS = 5;

interface Row {
  floor: string;
  /** Index of its floor, 0 at the top (processes). */
  level: number;
  /** Paths without a trailing `/` or `.ts`: `src/keys`, `src/util/json`. */
  paths: string[];
  mayImport: string[];
  planned: boolean;
}

/** src/ files (without `.ts`, an index as its folder) and what each imports at run time. */
type Graph = Map<string, string[]>;

const pathOf = (text: string) => text.replace(/\/$/, '').replace(/(\/index)?\.ts$/, '');
const holds = (path: string, file: string) => file === path || file.startsWith(`${path}/`);

/** Backticked paths and nothing else: `a`, `b` (or the word nothing). */
function pathList(cell: string, where: string): string[] {
  if (cell === 'nothing') return [];
  if (!/^`[^`]+`(, `[^`]+`)*$/.test(cell)) throw new Error(`${where}: "${cell}" is not a list of backticked paths`);
  return [...new Set([...cell.matchAll(/`([^`]+)`/g)].map((match) => pathOf(match[1])))];
}

/** The table, parsed strictly: a cell it cannot read fails the test rather than being skipped. */
function parseRules(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(TABLE_HEADING);
  if (start === -1) throw new Error(`docs/ARCHITECTURE.md has no "${TABLE_HEADING}"`);
  const table = lines.slice(start + 1).filter((line, i, all) => line.startsWith('|') && all.slice(0, i).every((l) => l === '' || l.startsWith('|')));
  if (table[0] !== '| floor | folder | holds | may import |' || !/^\|(---\|){4}$/.test(table[1])) throw new Error('the table must have the columns floor, folder, holds, may import');
  const floors: string[] = [];
  return table.slice(2).map((line, index) => {
    const where = `docs/ARCHITECTURE.md, row ${index + 1}`;
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length !== 4) throw new Error(`${where} has ${cells.length} cells, not 4`);
    const [floor, folder, , mayImport] = cells;
    if (floor !== '') floors.push(floor);
    if (floors.length === 0) throw new Error(`${where} has no floor`);
    const planned = folder.endsWith(' (planned)');
    return {
      floor: floors[floors.length - 1],
      level: floors.length - 1,
      paths: pathList(planned ? folder.slice(0, -' (planned)'.length) : folder, `${where}, folder`),
      mayImport: pathList(mayImport, `${where}, may import`),
      planned,
    };
  });
}

/** The row a file belongs to: the one naming the longest path that holds it. */
function rowOf(rows: Row[], file: string): Row | undefined {
  let best: { row: Row; length: number } | undefined;
  for (const row of rows) for (const path of row.paths) if (holds(path, file) && path.length > (best?.length ?? -1)) best = { row, length: path.length };
  return best?.row;
}

const isRoute = (file: string) => /^src\/api\/routes\/[^/]+$/.test(file);
/** What Temporal bundles into workflow code: deterministic, no Node built-ins, no I/O. */
const WORKFLOW_CODE = ['src/workflows', 'src/contract', 'src/flows/core', 'src/util/json'];
const isWorkflowCode = (file: string) => WORKFLOW_CODE.some((path) => holds(path, file));

/** Every broken rule of `graph`, as `file → target: why`. */
function violations(rows: Row[], graph: Graph): string[] {
  const broken: string[] = [];
  for (const [file, targets] of graph) {
    const from = rowOf(rows, file);
    if (!from) {
      broken.push(`${file}: in no row of docs/ARCHITECTURE.md's table`);
      continue;
    }
    for (const target of targets) {
      const to = rowOf(rows, target);
      const crossing = `${file} → ${target}`;
      if (isWorkflowCode(file) && !isWorkflowCode(target)) broken.push(`${crossing}: workflow code imports only workflow code`);
      if (isRoute(file) && isRoute(target)) broken.push(`${crossing}: a route file does not import another route file`);
      if (!to || to === from) continue;
      if (to.level < from.level) broken.push(`${crossing}: an upward import, from the ${from.floor} floor to the ${to.floor} floor`);
      if (!from.mayImport.some((path) => holds(path, target))) broken.push(`${crossing}: its row (${from.paths.join(', ')}) may not import ${to.paths.join(', ')} (docs/ARCHITECTURE.md)`);
    }
  }
  return broken;
}

/** What the table says that cannot be so: too many floors, an upward or unknown "may import", a missing folder. */
function tableProblems(rows: Row[]): string[] {
  const problems: string[] = [];
  const floors = new Set(rows.map((row) => row.floor));
  if (floors.size > MAX_FLOORS) problems.push(`${floors.size} floors, more than ${MAX_FLOORS}`);
  for (const row of rows) {
    for (const path of row.paths) {
      const exists = existsSync(join(ROOT, path)) || existsSync(join(ROOT, `${path}.ts`));
      if (!exists && !row.planned) problems.push(`${path}: no such file or folder (mark the row "(planned)" if it is to come)`);
    }
    for (const path of row.mayImport) {
      const to = rowOf(rows, path);
      if (!to) problems.push(`${row.paths.join(', ')} may import ${path}, which is in no row`);
      else if (to.level < row.level) problems.push(`${row.paths.join(', ')} may import ${path}, a floor above its own`);
    }
  }
  return problems;
}

interface Cruised {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; circular: boolean; cycle?: Array<{ name: string }> }> }>;
}

/**
 * dependency-cruiser's graph of src/: run-time imports only (it reads the TypeScript as compiled),
 * or with `types`, every import as written, type-only ones included.
 */
async function cruise(types = false): Promise<{ graph: Graph; cycles: string[] }> {
  const { stdout } = await promisify(execFile)(
    join(ROOT, 'node_modules', '.bin', 'depcruise'),
    ['src', '--no-config', '--ts-config', 'tsconfig.json', '--do-not-follow', '^node_modules', '--output-type', 'json', ...(types ? ['--ts-pre-compilation-deps'] : [])],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const { modules } = JSON.parse(stdout) as Cruised;
  const graph: Graph = new Map();
  const cycles: string[] = [];
  for (const module of modules) {
    if (!module.source.startsWith('src/')) continue;
    const local = module.dependencies.filter((dependency) => dependency.resolved.startsWith('src/'));
    graph.set(pathOf(module.source), local.map((dependency) => pathOf(dependency.resolved)));
    for (const { circular, cycle } of local) if (circular) cycles.push([module.source, ...(cycle ?? []).map(({ name }) => name)].join(' → '));
  }
  return { graph, cycles };
}

const rules = parseRules(readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8'));

describe('import boundaries', () => {
  let cruised: { graph: Graph; cycles: string[] };
  let withTypes: { graph: Graph; cycles: string[] };
  beforeAll(async () => {
    [cruised, withTypes] = await Promise.all([cruise(), cruise(true)]);
  }, 120_000);

  it('docs/ARCHITECTURE.md states rules that can hold', () => {
    expect(rules.length).toBeGreaterThan(15);
    expect(tableProblems(rules)).toEqual([]);
  });

  it('hold in src/', () => {
    expect(cruised.graph.size).toBeGreaterThan(100);
    expect(violations(rules, cruised.graph)).toEqual([]);
  });

  it('leave no cycle in src/', () => {
    expect(cruised.cycles).toEqual([]);
  });

  it('leave no cycle in src/ even through type-only imports', () => {
    // Such a loop is no run-time hazard, but it ties two parts together: keys and config were one.
    expect(withTypes.cycles).toEqual([]);
    expect(withTypes.graph.get('src/workflows/providers')).toContain('src/activities');
  });

  it('count run-time imports only: a type-only import is no edge', () => {
    // src/workflows/providers.ts imports the activities' type; workflow code never loads them.
    expect(readFileSync(join(ROOT, 'src/workflows/providers.ts'), 'utf8')).toMatch(/import type \{[^}]*\} from '\.\.\/activities'/);
    expect(cruised.graph.get('src/workflows/providers')).not.toContain('src/activities');
  });

  it('name each crossing the wrong way', () => {
    const cases: Array<[string, string, string]> = [
      ['src/activities/webhooks', 'src/api/app', 'may not import src/api'],
      ['src/worker', 'src/api/app', 'may not import src/api'],
      ['src/api/app', 'src/activities', 'its row (src/api) may not import src/worker, src/activities'],
      ['src/api/routes/events', 'src/api/routes/backend', 'a route file does not import another route file'],
      ['src/workflows/session', 'src/flows/catalog', 'workflow code imports only workflow code'],
      ['src/flows/core/engine', 'src/util/hash', 'workflow code imports only workflow code'],
      ['src/providers/attestr', 'src/activities', 'an upward import, from the shared floor to the processes floor'],
      ['src/keys/codec', 'src/workflows/session', 'an upward import, from the shared floor to the workflow floor'],
      ['src/tenants/registry', 'src/config', 'its row (src/tenants) may not import src/config'],
      ['src/browser/sdk', 'src/contract/session', 'its row (src/browser) may not import src/contract'],
      ['src/contract/session', 'src/util/hash', 'its row (src/contract) may not import src/util'],
      ['src/api/routes/hosted', 'src/browser/sdk', 'may not import src/browser'],
      ['src/sandbox/tenant-pages', 'src/tenants/registry', 'its row (src/sandbox) may not import src/tenants'],
      ['src/sandbox/server', 'src/config', 'its row (src/sandbox) may not import src/config'],
      ['src/stray', 'src/util/json', "src/stray: in no row of docs/ARCHITECTURE.md's table"],
    ];
    for (const [file, target, rule] of cases) {
      expect(violations(rules, new Map([[file, [target]]]))).toContainEqual(expect.stringContaining(rule));
    }
  });

  it('let each row import what it names', () => {
    const allowed: Array<[string, string]> = [
      ['src/api/routes/device', 'src/api/device-auth'],
      ['src/api/routes/hosted', 'src/browser/strings'],
      ['src/worker', 'src/tenants/registry'],
      ['src/sandbox/main', 'src/config'],
      ['src/sandbox/tenant-pages', 'src/util/tenant-pages'],
      ['src/workflows/session', 'src/util/json'],
      ['src/contract/session', 'src/flows/core/types'],
      ['src/operator-api/main', 'src/operators/registry'],
    ];
    for (const [file, target] of allowed) expect(violations(rules, new Map([[file, [target]]]))).toEqual([]);
  });

  it('read the table strictly', () => {
    const table = (row: string) => `${TABLE_HEADING}\n\n| floor | folder | holds | may import |\n|---|---|---|---|\n${row}\n`;
    expect(() => parseRules(table('| base | `src/util/` | helpers | everything below |'))).toThrow('is not a list of backticked paths');
    expect(() => parseRules(table('| base | src/util | helpers | nothing |'))).toThrow('is not a list of backticked paths');
    expect(() => parseRules(table('| base | `src/util/` | nothing |'))).toThrow('has 3 cells, not 4');
    const floors = ['a', 'b', 'c', 'd', 'e', 'f'].map((floor) => `| ${floor} | \`src/${floor}/\` (planned) | x | nothing |`).join('\n');
    expect(tableProblems(parseRules(table(floors)))).toContain('6 floors, more than 5');
    expect(tableProblems(parseRules(table('| a | `src/util/` | x | nothing |\n| b | `src/flows/` | x | `src/util/` |')))).toEqual([
      'src/flows may import src/util, a floor above its own',
    ]);
  });
});
