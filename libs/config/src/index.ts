export {
  AppConfig,
  ConfigValidationError,
  USERNAME_PATTERN,
  USERNAME_RULE,
  type S3Settings,
} from './app-config';
export { ConfigModule } from './config.module';
export { ENVIRONMENT_KEYS, EnvironmentSchema } from './environment.schema';
export { logLevels, onStopRequest, runProcess } from './process-entry';
export { startWorkerThread } from './worker-thread';
export {
  OIDC_ALGORITHMS,
  parseOidcIssuers,
  type OidcAlgorithm,
  type OidcIssuerSettings,
} from './oidc-issuers';
export { isRole, ROLES, type Role } from './roles';
