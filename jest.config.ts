import type { Config } from 'jest';

const moduleNameMapper = {
  '^@app/config$': '<rootDir>/libs/config/src',
  '^@app/ml$': '<rootDir>/libs/ml/src',
  '^@app/database$': '<rootDir>/libs/database/src',
  '^@app/storage$': '<rootDir>/libs/storage/src',
  '^@app/registry$': '<rootDir>/libs/registry/src',
  '^@app/queue$': '<rootDir>/libs/queue/src',
  '^@app/retraining$': '<rootDir>/libs/retraining/src',
};

const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
};

const project = (displayName: string, testRegex: string): Config => ({
  displayName,
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform,
  moduleNameMapper,
  testRegex,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
});

const config: Config = {
  projects: [
    project('unit', '(apps|libs)/.*/src/.*\\.spec\\.ts$'),
    project('e2e', 'apps/.*/test/.*\\.e2e-spec\\.ts$'),
  ],
  testTimeout: 120_000,
};

export default config;
