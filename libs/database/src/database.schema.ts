import { FeedbackEntity } from './entities/feedback.entity';
import { ModelVersionEntity } from './entities/model-version.entity';
import { PredictionEntity } from './entities/prediction.entity';
import { ProductionPointerEntity } from './entities/production-pointer.entity';
import { PromotionAuditEntity } from './entities/promotion-audit.entity';
import { InitialSchema1764201600000 } from './migrations/1764201600000-initial-schema.migration';

/** Every entity of the service's database. Add new entities here, and their migration below. */
export const DATABASE_ENTITIES = [
  ModelVersionEntity,
  ProductionPointerEntity,
  PromotionAuditEntity,
  PredictionEntity,
  FeedbackEntity,
];

/** Every migration, oldest first; each runs once per database, in this order. */
export const DATABASE_MIGRATIONS = [InitialSchema1764201600000];
