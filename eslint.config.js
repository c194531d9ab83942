// Lint: type-aware rules, plus the architecture's boundaries (design.md, style rule 4).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const services = ['gateway', 'users', 'orders', 'payments', 'inventory', 'notifications'];

export default tseslint.config(
  { ignores: ['node_modules/', '.souk/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Fastify handlers and hooks are async by convention, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: [
      '**/*.test.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      '**/testing/**/*.ts',
      '**/test-fixtures/**/*.ts',
      '**/test-helpers.ts',
    ],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
      // Tests read JSON answers loosely; the assertions are the type check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  ...services.map((service) => ({
    files: [`services/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: services
                .filter((s) => s !== service)
                .flatMap((s) => [`@souk/${s}`, `**/services/${s}/**`]),
              message: 'A service never imports another service.',
            },
            { group: ['@souk/*/src/**'], message: 'Import a package through its exports map.' },
          ],
        },
      ],
    },
  })),
  {
    files: ['services/*/src/domain/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'pg', 'undici', 'fastify', '@souk/chassis', '**/data/**', '**/http/**'],
              message: 'domain/ is pure logic: no I/O.',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The pages: plain ES modules run by the browser, no build step.
  { files: ['web/**/*.js'], languageOptions: { sourceType: 'module', globals: globals.browser } },
);
