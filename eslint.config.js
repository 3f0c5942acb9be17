// Lint rules that keep the data flow of DESIGN.md honest: reporters are observers and never
// reach into the engine, and the embedded cluster stays behind its node-access provider and the CLI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const engineImport = { group: ['**/engine/**', '**/engine/*'], message: 'Reporters observe run events; they never import the engine (DESIGN.md: reporters).' };
const simImport = { group: ['**/sim/**', '**/sim/*', '**/sim/index.js'], message: 'Only src/sim itself, its node-access provider (src/nodes/sim-node-access.ts) and the CLI may import the embedded cluster.' };

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
  {
    files: ['src/report/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [engineImport, simImport] }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/sim/**', 'src/cli/**', 'src/nodes/sim-node-access.ts', 'src/report/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [simImport] }] },
  },
);
