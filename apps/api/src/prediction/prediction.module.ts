import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { PredictionWriter } from '@app/database';
import { ServingModule } from '../serving/serving.module';
import { CategoriesController } from './categories.controller';
import { PredictionCoalescer } from './prediction.coalescer';
import { PredictionController } from './prediction.controller';
import { PredictionRecorder } from './prediction.recorder';
import { PredictionService } from './prediction.service';

@Module({
  imports: [
    ServingModule,
    MulterModule.registerAsync({
      inject: [AppConfig],
      // Memory storage: the image is classified and dropped, never written to disk.
      useFactory: (config: AppConfig) => ({
        limits: { fileSize: config.env.MAX_IMAGE_BYTES, files: 1, fields: 10 },
      }),
    }),
  ],
  controllers: [PredictionController, CategoriesController],
  providers: [
    PredictionService,
    PredictionCoalescer,
    PredictionRecorder,
    {
      provide: PredictionWriter,
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => new PredictionWriter(dataSource),
    },
  ],
  exports: [PredictionRecorder],
})
export class PredictionModule {}
