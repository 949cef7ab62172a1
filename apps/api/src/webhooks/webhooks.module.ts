import { Module } from '@nestjs/common';
import { RetrainingModule } from '@app/retraining';
import { AlertmanagerController } from './alertmanager.controller';

@Module({
  imports: [RetrainingModule],
  controllers: [AlertmanagerController],
})
export class WebhooksModule {}
