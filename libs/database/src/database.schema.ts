import { AlertEventEntity } from './entities/alert-event.entity';
import { FeedbackAuditEntity } from './entities/feedback-audit.entity';
import { FeedbackEntity } from './entities/feedback.entity';
import { ModelVersionEntity } from './entities/model-version.entity';
import { PredictionEntity } from './entities/prediction.entity';
import { ProductionPointerEntity } from './entities/production-pointer.entity';
import { PromotionAuditEntity } from './entities/promotion-audit.entity';
import { RetrainingJobEntity } from './entities/retraining-job.entity';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { ServiceTokenEntity } from './entities/service-token.entity';
import { UserEntity } from './entities/user.entity';
import { InitialSchema1764201600000 } from './migrations/1764201600000-initial-schema.migration';
import { Auth1764288000000 } from './migrations/1764288000000-auth.migration';
import { ModelVersionIdempotencyKey1764460800000 } from './migrations/1764460800000-model-version-idempotency-key.migration';
import { Retraining1764979200000 } from './migrations/1764979200000-retraining.migration';
import { FeedbackLoop1765152000000 } from './migrations/1765152000000-feedback-loop.migration';
import { FeedbackAuditRevision1765500000000 } from './migrations/1765500000000-feedback-audit-revision.migration';
import { RetrainingJobCancel1765600000000 } from './migrations/1765600000000-retraining-job-cancel.migration';
import { PredictionDecision1765700000000 } from './migrations/1765700000000-prediction-decision.migration';

/** Every entity of the service's database. Add new entities here, and their migration below. */
export const DATABASE_ENTITIES = [
  ModelVersionEntity,
  ProductionPointerEntity,
  PromotionAuditEntity,
  PredictionEntity,
  FeedbackEntity,
  UserEntity,
  RefreshTokenEntity,
  ServiceTokenEntity,
  RetrainingJobEntity,
  FeedbackAuditEntity,
  AlertEventEntity,
];

/** Every migration, oldest first; each runs once per database, in this order. */
export const DATABASE_MIGRATIONS = [
  InitialSchema1764201600000,
  Auth1764288000000,
  ModelVersionIdempotencyKey1764460800000,
  Retraining1764979200000,
  FeedbackLoop1765152000000,
  FeedbackAuditRevision1765500000000,
  RetrainingJobCancel1765600000000,
  PredictionDecision1765700000000,
];
