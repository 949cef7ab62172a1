export { DatabaseModule } from './database.module';
export { DATABASE_ENTITIES, DATABASE_MIGRATIONS } from './database.schema';
export { dataSourceOptions, initializeDataSource, openDataSource, SQLITE_FILE } from './data-source.options';
export { isUniqueViolation } from './database.errors';
export { FeedbackEntity } from './entities/feedback.entity';
export {
  ModelVersionEntity,
  type ModelFileColumn,
  type ModelVersionStatus,
} from './entities/model-version.entity';
export { PredictionEntity, type PredictionTopColumn } from './entities/prediction.entity';
export { ProductionPointerEntity } from './entities/production-pointer.entity';
export { PromotionAuditEntity, type PromotionAuditAction } from './entities/promotion-audit.entity';
export {
  createPostgresTestSchema,
  DEFAULT_TEST_DATABASE_URL,
  type PostgresTestSchema,
} from './testing/postgres-schema.fixture';
