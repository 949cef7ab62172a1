import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** The house rules on imports (docs/architecture.md, "Import rules"): apps are transports over libraries, libraries are used whole. */
const BOUNDARIES = [
  {
    regex: '^(\\.\\./)+(apps/)?(api|worker)(/|$)',
    message: 'An app never imports another app: move what both need into a library under libs/.',
  },
  {
    regex: '^(\\.\\./)+([^./][^/]*/)+src(/|$)',
    message:
      'Cross into another app or library only through its entry point (@app/<lib>), never by a relative path into its src/.',
  },
  {
    regex: '(^|/)libs/',
    message: 'Import a library as @app/<lib>, not by a path into libs/.',
  },
  {
    regex: '^@app/[^/]+/(?!testing$).+',
    message:
      'Import a library through its index.ts (@app/<lib>) or its fixtures through @app/<lib>/testing, never its files.',
  },
];

const TESTING_ONLY = [
  {
    regex: '^@app/[^/]+/testing$',
    message: 'Test fixtures are for tests: production code never imports a testing entry point.',
  },
  {
    regex: '^\\.{1,2}/(.+/)?testing(/|$)',
    message: 'Test fixtures are for tests: production code never imports a testing folder.',
  },
];

/**
 * Libraries that do not predict keep clear of the model library: loading @app/ml loads TensorFlow.js (about 1,700
 * modules), which a registry, a store or an account check has no use for. Checksums come from @app/checksum,
 * classification scores from @app/classification-metrics.
 */
const NO_MODEL = {
  group: ['@app/ml', '@app/ml/*'],
  message:
    'This library does not predict: take hashing from @app/checksum and scores from @app/classification-metrics, not @app/ml.',
};
const NON_PREDICTING_LIBS = [
  'registry',
  'storage',
  'feedback',
  'accounts',
  'checksum',
  'classification-metrics',
];

/** Files that may use fixtures. Everything else is production code. */
const TEST_CODE = [
  '**/*.spec.ts',
  '**/test/**/*.ts',
  '**/testing/**/*.ts',
  'bench/**/*.ts',
  'jest.config.ts',
];

/**
 * File names say what a file holds: `kebab-case.role.ts` (`model-serving.service.ts`, `drift-window.stats.ts`,
 * `oidc-claims.util.ts`). Entry points (`index.ts`, `main.ts`), specs and the e2e folders are named by their own rules.
 */
const ROLE_FILE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*\.[a-z]+(-[a-z]+)*(\.d)?\.ts$/;

const fileNames = {
  rules: {
    'role-suffix': {
      meta: {
        type: 'suggestion',
        messages: {
          noRole:
            '"{{name}}" does not say its role: name it kebab-case.role.ts (.service, .module, .controller, .dto, .types, .util, .fixture, ...).',
        },
        schema: [],
      },
      create(context) {
        const name = context.filename.split(/[\\/]/).pop();
        return {
          Program(node) {
            if (!ROLE_FILE_NAME.test(name)) context.report({ node, messageId: 'noRole', data: { name } });
          },
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
      'no-restricted-imports': ['error', { patterns: [...BOUNDARIES, ...TESTING_ONLY] }],
    },
  },
  {
    // Type-aware rules for defects in async code and in switches over unions; the type information costs lint time,
    // so they run over the product code (apps and libraries), where such a defect reaches users.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A default branch is a deliberate catch-all (e.g. csv-parse's many error codes share one message).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
    },
  },
  {
    files: TEST_CODE,
    rules: { 'no-restricted-imports': ['error', { patterns: BOUNDARIES }] },
  },
  {
    files: NON_PREDICTING_LIBS.map((lib) => `libs/${lib}/src/**/*.ts`),
    ignores: TEST_CODE,
    rules: { 'no-restricted-imports': ['error', { patterns: [...BOUNDARIES, ...TESTING_ONLY, NO_MODEL] }] },
  },
  {
    files: NON_PREDICTING_LIBS.flatMap((lib) => TEST_CODE.map((pattern) => `libs/${lib}/src/${pattern}`)),
    rules: { 'no-restricted-imports': ['error', { patterns: [...BOUNDARIES, NO_MODEL] }] },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', 'bench/**/*.ts', '**/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'bench/**/*.ts'],
    ignores: ['**/index.ts', '**/main.ts', '**/*.spec.ts', 'apps/*/test/**'],
    plugins: { 'file-names': fileNames },
    rules: { 'file-names/role-suffix': 'error' },
  },
);
