/**
 * The process and determinism boundaries of src/ (docs/ARCHITECTURE.md), checked on the real
 * import graph: every import, export-from, require() and import() of every file, resolved to
 * the file it names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

interface Import {
  /** The imported file, relative to the repository root, without extension. */
  target: string;
  typeOnly: boolean;
}

const ROOT = resolve(__dirname, '../..');

function under(folder: string): (file: string) => boolean {
  // A folder's index counts as the folder.
  return (file) => file === folder || file.startsWith(`${folder}/`);
}
const isRoute = (file: string) => /^src\/api\/routes\/[^/]+$/.test(file);
/** What Temporal bundles into workflow code: deterministic, no Node built-ins, no I/O. */
const isWorkflowSafe = (file: string) => under('src/workflows')(file) || under('src/contract')(file) || under('src/flows/core')(file) || file === 'src/util/json';
/** The floors every process shares: they never import a process's own code. */
const isShared = (file: string) =>
  ['src/tenants', 'src/operators', 'src/providers', 'src/util', 'src/flows'].some((folder) => under(folder)(file)) || file === 'src/config' || file === 'src/settings';
const isProcessCode = (file: string) =>
  under('src/api')(file) || under('src/activities')(file) || under('src/workflows')(file) || file === 'src/worker';

interface Rule {
  name: string;
  applies: (file: string, imported: Import) => boolean;
}

const RULES: Rule[] = [
  { name: 'the worker and activities do not import the api', applies: (file, { target }) => (under('src/activities')(file) || file === 'src/worker') && under('src/api')(target) },
  { name: 'the api does not import activities', applies: (file, { target }) => under('src/api')(file) && under('src/activities')(target) },
  { name: 'a route file does not import another route file', applies: (file, { target }) => isRoute(file) && isRoute(target) },
  // Every process imports the contracts, so they import nothing of any process, not even types.
  {
    name: 'a contract imports only the flow core, src/util/json and other contracts',
    applies: (file, { target }) => under('src/contract')(file) && target.startsWith('src/') && !under('src/contract')(target) && !under('src/flows/core')(target) && target !== 'src/util/json',
  },
  {
    name: 'workflow code imports only workflow-safe code (types aside)',
    applies: (file, { target, typeOnly }) => isWorkflowSafe(file) && !typeOnly && target.startsWith('src/') && !isWorkflowSafe(target),
  },
  { name: 'shared modules do not import process code', applies: (file, { target }) => isShared(file) && isProcessCode(target) },
  // Browser code is bundled for the browser: nothing of the server's may leak into it.
  { name: 'browser code imports only browser code', applies: (file, { target }) => under('src/browser')(file) && target.startsWith('src/') && !under('src/browser')(target) },
  { name: 'only the api imports browser code, and only its strings', applies: (file, { target }) => !under('src/browser')(file) && under('src/browser')(target) && !(under('src/api')(file) && target === 'src/browser/strings') },
  // The sandbox plays the other parties (providers, a tenant's inbox): it knows nothing of ours
  // but the shared floor, and its entry reads the configuration (a secret comes in by environment).
  {
    name: 'the sandbox imports only the sandbox and src/util (its entry: the configuration too)',
    applies: (file, { target }) =>
      under('src/sandbox')(file) && target.startsWith('src/') && !under('src/sandbox')(target) && !under('src/util')(target) && !(file === 'src/sandbox/main' && target === 'src/config'),
  },
];

function resolveSpecifier(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(ROOT, dirname(file), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return relative(ROOT, candidate).replace(/(\/index)?\.ts$/, '');
  }
  return relative(ROOT, base);
}

/** The imports of one file; `file` is relative to the repository root. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteral(specifier)) return;
    const target = resolveSpecifier(file, specifier.text);
    if (target !== null) found.push({ target, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const namedTypesOnly =
        clause?.namedBindings !== undefined &&
        ts.isNamedImports(clause.namedBindings) &&
        clause.name === undefined &&
        clause.namedBindings.elements.length > 0 &&
        clause.namedBindings.elements.every((element) => element.isTypeOnly);
      add(node.moduleSpecifier, Boolean(clause?.isTypeOnly) || namedTypesOnly);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isResolve = ts.isPropertyAccessExpression(callee) && callee.getText(source) === 'require.resolve';
      if (callee.kind === ts.SyntaxKind.ImportKeyword || isRequire || isResolve) add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every broken rule in `files` (path without extension → its imports), as `file → target: rule`. */
function violations(files: Map<string, Import[]>): string[] {
  const broken: string[] = [];
  for (const [file, imports] of files) {
    for (const imported of imports) {
      for (const rule of RULES) if (rule.applies(file, imported)) broken.push(`${file} → ${imported.target}: ${rule.name}`);
    }
  }
  return broken;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('import boundaries', () => {
  it('hold in src/', () => {
    const files = new Map(sourceFiles('src').map((file) => [file.replace(/\.ts$/, ''), importsOf(file, readFileSync(join(ROOT, file), 'utf8'))]));
    expect(files.size).toBeGreaterThan(40);
    expect(violations(files)).toEqual([]);
  });

  it('name each crossing the wrong way', () => {
    const graph = (file: string, text: string) => new Map([[file.replace(/\.ts$/, ''), importsOf(file, text)]]);
    const cases: Array<[string, string, string]> = [
      ['src/activities/webhooks.ts', "import { x } from '../api/app';", 'the worker and activities do not import the api'],
      ['src/worker.ts', "const app = require('./api/app');", 'the worker and activities do not import the api'],
      ['src/api/app.ts', "export { createActivities } from '../activities';", 'the api does not import activities'],
      ['src/api/metrics.ts', "const m = import('../activities/metrics');", 'the api does not import activities'],
      ['src/api/routes/events.ts', "import { resolveFlow } from './backend';", 'a route file does not import another route file'],
      ['src/workflows/session.ts', "import { FlowCatalog } from '../flows/catalog';", 'workflow code imports only workflow-safe code (types aside)'],
      ['src/contract/session.ts', "import type { SessionModel } from '../workflows/session/model';", 'a contract imports only the flow core, src/util/json and other contracts'],
      ['src/flows/core/engine.ts', "import { contentHash } from '../../util/hash';", 'workflow code imports only workflow-safe code (types aside)'],
      ['src/providers/attestr.ts', "import type { Activities } from '../activities';", 'shared modules do not import process code'],
      ['src/browser/sdk.ts', "import { DEVICE_STATUS } from '../contract/session';", 'browser code imports only browser code'],
      ['src/api/routes/hosted.ts', "import { FlowSession } from '../../browser/sdk';", 'only the api imports browser code, and only its strings'],
      ['src/sandbox/tenant-pages.ts', "import { loadClients } from '../tenants/registry';", 'the sandbox imports only the sandbox and src/util'],
      ['src/sandbox/server.ts', "import { loadConfig } from '../config';", 'the sandbox imports only the sandbox and src/util'],
    ];
    for (const [file, text, rule] of cases) expect(violations(graph(file, text))).toEqual([expect.stringContaining(rule)]);
  });

  it('let types cross into workflow code, and route files use shared api modules', () => {
    const allowed: Array<[string, string]> = [
      ['src/workflows/providers.ts', "import type { Activities } from '../activities';"],
      ['src/workflows/session.ts', "import { type Activities } from '../activities';"],
      ['src/api/routes/device.ts', "import { deviceCredential } from '../device-auth';"],
      ['src/worker.ts', "import { loadClients } from './tenants/registry';"],
      ['src/sandbox/main.ts', "import { loadConfigOrExit } from '../config';"],
      ['src/sandbox/tenant-pages.ts', "import { INBOX_PATH } from '../util/tenant-pages';"],
    ];
    for (const [file, text] of allowed) expect(violations(new Map([[file.replace(/\.ts$/, ''), importsOf(file, text)]]))).toEqual([]);
  });
});
