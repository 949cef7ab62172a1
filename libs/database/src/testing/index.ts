export {
  createPostgresTestSchema,
  DEFAULT_TEST_DATABASE_URL,
  type PostgresTestSchema,
} from './postgres-schema.fixture';
export {
  openTestDatabase,
  TEST_DATABASES,
  type OpenTestDatabase,
  type TestDatabase,
} from './test-databases.fixture';
