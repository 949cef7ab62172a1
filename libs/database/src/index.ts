export { DatabaseModule } from './database.module';
export { DATABASE_ENTITIES, DATABASE_MIGRATIONS } from './database.schema';
export { dataSourceOptions, initializeDataSource, openDataSource, SQLITE_FILE } from './data-source.options';
export { isUniqueViolation } from './database.errors';
export { runInTransaction } from './database.transaction';
export { FeedbackEntity, type FeedbackSource } from './entities/feedback.entity';
export { ReviewItemEntity, type ReviewReason, type ReviewStatus } from './entities/review-item.entity';
export { FeedbackAuditEntity } from './entities/feedback-audit.entity';
export { AlertEventEntity, type AlertEventResult } from './entities/alert-event.entity';
export { AuditBoostEntity } from './entities/audit-boost.entity';
export {
  ModelVersionEntity,
  type ModelFileColumn,
  type ModelVersionStatus,
} from './entities/model-version.entity';
export { PredictionEntity, type PredictionTopColumn } from './entities/prediction.entity';
export { ProductionPointerEntity } from './entities/production-pointer.entity';
export { RefreshTokenEntity } from './entities/refresh-token.entity';
export { ServiceTokenEntity } from './entities/service-token.entity';
export { UserEntity } from './entities/user.entity';
export { RetrainingJobEntity, type RetrainingJobState } from './entities/retraining-job.entity';
export { PromotionAuditEntity, type PromotionAuditAction } from './entities/promotion-audit.entity';
export { Auth1764288000000 } from './migrations/1764288000000-auth.migration';
export { PredictionWriter, type PredictionRow } from './prediction.writer';
export { timeOrderedUuid, timeOrderedUuidTime } from './time-ordered-id.util';
export { checkDatabase, type HealthCheck } from './database.health';
