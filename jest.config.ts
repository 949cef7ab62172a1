import type { Config } from 'jest';

const moduleNameMapper = {
  '^@app/config$': '<rootDir>/libs/config/src',
  '^@app/checksum$': '<rootDir>/libs/checksum/src',
  '^@app/classification-metrics$': '<rootDir>/libs/classification-metrics/src',
  '^@app/ml$': '<rootDir>/libs/ml/src',
  '^@app/database$': '<rootDir>/libs/database/src',
  '^@app/storage$': '<rootDir>/libs/storage/src',
  '^@app/registry$': '<rootDir>/libs/registry/src',
  '^@app/queue$': '<rootDir>/libs/queue/src',
  '^@app/retraining$': '<rootDir>/libs/retraining/src',
  '^@app/redis$': '<rootDir>/libs/redis/src',
  '^@app/metrics$': '<rootDir>/libs/metrics/src',
  '^@app/accounts$': '<rootDir>/libs/accounts/src',
  '^@app/training$': '<rootDir>/libs/training/src',
  '^@app/feedback$': '<rootDir>/libs/feedback/src',
  '^@app/review$': '<rootDir>/libs/review/src',
  '^@app/drift$': '<rootDir>/libs/drift/src',
  '^@app/config/testing$': '<rootDir>/libs/config/src/testing',
  '^@app/ml/testing$': '<rootDir>/libs/ml/src/testing',
  '^@app/database/testing$': '<rootDir>/libs/database/src/testing',
  '^@app/registry/testing$': '<rootDir>/libs/registry/src/testing',
  '^@app/storage/testing$': '<rootDir>/libs/storage/src/testing',
  '^@app/metrics/testing$': '<rootDir>/libs/metrics/src/testing',
  '^@app/drift/testing$': '<rootDir>/libs/drift/src/testing',
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
    project('unit', '(apps|libs)/.*/src/.*(?<!\\.integration)\\.spec\\.ts$'),
    // A library's or an app's parts against the real PostgreSQL, Redis or S3 server, beside the code they test.
    project('integration', '(apps|libs)/.*/src/.*\\.integration\\.spec\\.ts$'),
    project('e2e', 'apps/.*/test/.*\\.e2e-spec\\.ts$'),
    // Deployment artefacts (Dockerfile, compose, monitoring config, workflows, AWS infrastructure), checked statically.
    project('deploy', '(docker|infra)/test/.*\\.spec\\.ts$'),
  ],
  testTimeout: 120_000,
};

export default config;
