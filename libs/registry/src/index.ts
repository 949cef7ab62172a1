export { ModelRegistry } from './model.registry';
export { RegistryModule } from './registry.module';
export {
  ACCEPT_REGISTERED,
  NO_ANNOUNCEMENT,
  PromotionWorkflow,
  type ProductionAnnouncer,
  type PromotionPreparer,
  type PromotionRequest,
} from './promotion.workflow';
export { productionChannel, RedisProductionAnnouncer, type ProductionChange } from './production.announcer';
export {
  AlreadyInProductionError,
  CorruptArtifactError,
  ModelVersionNotFoundError,
  NothingToRollBackError,
  RegistrationError,
} from './registry.errors';
export type {
  ModelFileRecord,
  ModelVersionRecord,
  ProductionState,
  PromoteOptions,
  PromotionAction,
  PromotionAuditRecord,
  PromotionResult,
  RegisterOptions,
  RollbackOptions,
} from './registry.types';
