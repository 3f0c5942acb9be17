// Lint rules that keep the data flow of docs/architecture.md honest: the engine and the reporters meet only in
// src/journal (the run events) and src/core; reporters never reach into the engine or the probes;
// and the embedded cluster stays behind its node-access provider and the CLI.
// Patterns match nested paths too, so they still hold once a folder has a subfolder per kind.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const engineImport = { group: ['**/engine', '**/engine/**'], message: 'Reporters observe run events; they never import the engine (docs/architecture.md: data flow). The engine and the reports meet only in src/journal and src/core.' };
const probesImport = { group: ['**/probes', '**/probes/**'], message: 'Reporters read samples from run events (src/journal); they never import probes.' };
const reportImport = { group: ['**/report', '**/report/**'], message: 'The engine hands run events to its observer; it never imports a reporter. The engine and the reports meet only in src/journal and src/core.' };
const simImport = { group: ['**/sim', '**/sim/**'], message: 'Only src/sim itself, its node-access provider (src/nodes/sim-node-access.ts) and the CLI may import the embedded cluster.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**', 'schema/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // One block per folder: a later block's no-restricted-imports replaces an earlier one's, so each
  // folder lists every pattern that applies to it, and the last block leaves these folders out.
  {
    files: ['src/report/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [engineImport, probesImport, simImport] }] },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [reportImport, simImport] }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/sim/**', 'src/cli/**', 'src/nodes/sim-node-access.ts', 'src/report/**', 'src/engine/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [simImport] }] },
  },
);
