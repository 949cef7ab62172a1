export {
  AppConfig,
  ConfigValidationError,
  USERNAME_PATTERN,
  USERNAME_RULE,
  type S3Settings,
} from './app.config';
export { ConfigModule } from './config.module';
export { ENVIRONMENT_KEYS, EnvironmentSchema } from './environment.schema';
export { AppLogger, terminalWantsColour, type AppLoggerOptions } from './app-logger.service';
export { LogContext, type LogFields } from './log-context.store';
export { logLevels, onStopRequest, processLogger, runProcess } from './process-entry.setup';
export { startWorkerThread } from './worker-thread.util';
export {
  OIDC_ALGORITHMS,
  parseOidcIssuers,
  type OidcAlgorithm,
  type OidcIssuerSettings,
} from './oidc-issuers.config';
export { isRole, ROLES, type Role } from './roles.constants';
