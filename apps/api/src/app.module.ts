import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { StorageModule } from '@app/storage';
import { AdmissionModule } from './admission/admission.module';
import { AuthModule } from './auth/auth.module';
import { BootstrapModule } from './bootstrap/bootstrap.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PredictionModule } from './prediction/prediction.module';
import { RegistryApiModule } from './registry/registry-api.module';
import { RetrainingApiModule } from './retraining/retraining-api.module';
import { FeedbackModule } from './feedback/feedback.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    StorageModule,
    MetricsModule,
    AdmissionModule,
    AuthModule,
    HealthModule,
    PredictionModule,
    RegistryApiModule,
    RetrainingApiModule,
    FeedbackModule,
    MonitoringModule,
    WebhooksModule,
    BootstrapModule,
  ],
})
export class AppModule {}
