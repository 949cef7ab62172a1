export { AppConfig, ConfigValidationError, type S3Settings } from './app-config';
export { ConfigModule } from './config.module';
export { EnvironmentSchema } from './environment.schema';
export { logLevels, runProcess } from './process-entry';
