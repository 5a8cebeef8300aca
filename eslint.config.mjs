import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// Which kinds of project may import which. Tests may also use the testing and stack libs.
const CONSTRAINTS = [
  ['type:app', ['type:util', 'type:data-access', 'type:feature-lib']],
  ['type:feature-lib', ['type:util', 'type:data-access', 'type:feature-lib']],
  ['type:data-access', ['type:util', 'type:data-access']],
  ['type:util', ['type:util']],
  ['type:testing', ['type:util', 'type:data-access', 'type:tooling']],
  ['type:tooling', ['type:util', 'type:tooling']],
  // benchmarks exercise the data-access libs directly (like tests) against the running stack
  ['type:bench', ['type:util', 'type:data-access', 'type:feature-lib', 'type:tooling']],
  ['scope:user', ['scope:shared', 'scope:user']],
  ['scope:post', ['scope:shared', 'scope:post']],
  ['scope:feed', ['scope:shared', 'scope:feed']],
  ['scope:leaderboard', ['scope:shared', 'scope:leaderboard']],
];
const boundaries = (inTests) => ({
  enforceBuildableLibDependency: false,
  allow: [],
  depConstraints: CONSTRAINTS.map(([sourceTag, tags]) => ({
    sourceTag,
    onlyDependOnLibsWithTags: inTests
      ? [...tags, 'type:testing', 'type:tooling', 'scope:tooling']
      : tags,
  })),
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.stack/**',
      '.stack-test/**',
      '.stack-probe/**',
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
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
    },
  },
  {
    // Migrations live in dated folders inside the database lib and import its id helpers.
    files: ['libs/database/src/migrations/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests (and the helpers only specs import) may use unsafe-typed JSON bodies freely; they assert on them.
    files: [
      '**/*.spec.ts',
      '**/*.spec-helper.ts',
      '**/*.integration-spec.ts',
      '**/*.e2e-spec.ts',
      'test/**/*.ts',
    ],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(true)],
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
