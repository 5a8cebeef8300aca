import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.stack/**',
      '.stack-test/**',
      'coverage/**',
      'tmp/**',
      '.nx/**',
      'loadtests/**',
      'deploy/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      curly: 'error',
      eqeqeq: 'error',
      // Stay inside a feature: shared code is imported by its lib's package name.
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../../*'], message: 'Import shared code by its @murmur/* name.' }],
        },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:feature-lib'],
            },
            {
              sourceTag: 'type:feature-lib',
              onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:feature-lib'],
            },
            {
              sourceTag: 'type:data-access',
              onlyDependOnLibsWithTags: ['type:util', 'type:data-access'],
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:tooling'],
            },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:util', 'type:tooling'] },
            { sourceTag: 'scope:user', onlyDependOnLibsWithTags: ['scope:shared', 'scope:user'] },
            { sourceTag: 'scope:post', onlyDependOnLibsWithTags: ['scope:shared', 'scope:post'] },
            { sourceTag: 'scope:feed', onlyDependOnLibsWithTags: ['scope:shared', 'scope:feed'] },
            {
              sourceTag: 'scope:leaderboard',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:leaderboard'],
            },
          ],
        },
      ],
    },
  },
  {
    // Migrations live in dated folders inside the database lib and import its id helpers.
    files: ['libs/database/src/migrations/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests may use unsafe-typed JSON bodies freely; they assert on them.
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
  },
  prettier,
);
