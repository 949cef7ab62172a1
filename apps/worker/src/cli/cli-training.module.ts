import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { RegistryModule } from '@app/registry';
import { StorageModule } from '@app/storage';
import { TrainingModule } from '@app/training';
import { CliPromotionModule } from './cli-promotion.module';

/** What `npm run train -- --register` opens: the configured registry and the training workflow over it. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    StorageModule,
    RegistryModule,
    TrainingModule.register({ promotion: [CliPromotionModule] }),
  ],
})
export class CliTrainingModule {}
