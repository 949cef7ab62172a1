export { ModelRegistry } from './model.registry';
export { RegistryModule } from './registry.module';
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
