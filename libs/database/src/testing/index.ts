export {
  createPostgresTestSchema,
  DEFAULT_TEST_DATABASE_URL,
  type PostgresTestSchema,
} from './postgres-schema.fixture';
export { TEST_DATABASES, type TestDatabase } from './test-databases.fixture';
