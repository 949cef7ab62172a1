import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { AuditBoosts, DriftAlertAction } from '@app/drift';
import { AlertTriggers, RetrainingModule } from '@app/retraining';
import { ServingModule } from '../serving/serving.module';
import { DriftController } from './drift.controller';
import { DriftMetrics } from './drift.metrics';

/** The drift watch's transports: its metrics, its route, and what the webhook does with a drift alert. */
@Module({
  imports: [ServingModule, RetrainingModule],
  controllers: [DriftController],
  providers: [
    DriftMetrics,
    {
      // The review queue reads the boosted rate through this (AuditBoosts.rateFor).
      provide: AuditBoosts,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig) =>
        new AuditBoosts(dataSource, {
          rate: config.env.DRIFT_AUDIT_BOOST_RATE,
          minutes: config.env.DRIFT_AUDIT_BOOST_MINUTES,
        }),
    },
  ],
  exports: [AuditBoosts],
})
export class DriftModule implements OnModuleInit {
  private readonly logger = new Logger('DriftAlerts');

  constructor(
    private readonly triggers: AlertTriggers,
    private readonly boosts: AuditBoosts,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.triggers.use(
      new DriftAlertAction(this.config.driftAlerts, this.boosts, (message) => this.logger.warn(message)),
    );
  }
}
