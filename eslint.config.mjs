// Lint rules that guard correctness, not taste: floating promises lose errors, and workflow
// code runs in Temporal's deterministic sandbox where Node built-ins do not exist.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.data/', 'coverage/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Files short enough to read in one sitting, functions short enough to hold in one's head
    // (docs/ARCHITECTURE.md); blank lines and comments count.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 350, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    // Code the workflow bundle may contain: the workflows, the workflow contracts, the workflow-safe
    // core of the flow format, and the plain-JSON helpers. test/unit/boundaries.test.ts checks they import nothing else.
    files: ['src/workflows/**/*.ts', 'src/contract/**/*.ts', 'src/flows/core/**/*.ts', 'src/util/json.ts', 'bench/workflows.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.' })),
            { name: 'prom-client', message: 'Metrics are recorded by activities and the api, never in workflow code.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use Temporal timers (sleep, condition) in workflow code.' },
        { name: 'setInterval', message: 'Use Temporal timers in workflow code.' },
        { name: 'process', message: 'Workflow code has no process.' },
      ],
    },
  },
);
