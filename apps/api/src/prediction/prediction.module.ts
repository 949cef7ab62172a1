import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { PredictionWriter } from '@app/database';
import { PredictionImages } from '@app/feedback';
import { ARTIFACT_STORE, type ArtifactStore } from '@app/storage';
import { ReviewModule } from '../review/review.module';
import { ServingModule } from '../serving/serving.module';
import { CategoriesController } from './categories.controller';
import { PredictionImageRetention } from './prediction-image.retention';
import { PredictionImageSaver } from './prediction-image.saver';
import { PredictionCoalescer } from './prediction.coalescer';
import { PredictionController } from './prediction.controller';
import { PredictionRecorder } from './prediction.recorder';
import { PredictionService } from './prediction.service';

@Module({
  imports: [
    ServingModule,
    ReviewModule,
    MulterModule.registerAsync({
      inject: [AppConfig],
      // Memory storage: the image is classified, handed to PredictionImageSaver, and never written to local disk.
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
    {
      provide: PredictionImages,
      inject: [ARTIFACT_STORE],
      useFactory: (store: ArtifactStore) => new PredictionImages(store),
    },
    PredictionImageSaver,
    PredictionImageRetention,
  ],
  exports: [PredictionRecorder],
})
export class PredictionModule {}
