import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AppConfig } from '@app/config';
import { DatabaseModule } from './database.module';
import { PredictionEntity } from './entities/prediction.entity';
import { ProductionPointerEntity } from './entities/production-pointer.entity';

@Injectable()
class Consumer {
  constructor(
    @InjectDataSource() readonly dataSource: DataSource,
    @InjectRepository(PredictionEntity) readonly predictions: Repository<PredictionEntity>,
  ) {}
}

describe('DatabaseModule', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'database-module-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('provides a migrated data source and entity repositories to any module', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [DatabaseModule], providers: [Consumer] })
      .overrideProvider(AppConfig)
      .useValue(AppConfig.fromEnvironment({ VAR_DIR: dir }))
      .compile();
    const app = await moduleRef.init();
    try {
      const consumer = app.get(Consumer);
      expect(consumer.dataSource.isInitialized).toBe(true);
      expect(await consumer.predictions.count()).toBe(0);
      expect(await consumer.dataSource.getRepository(ProductionPointerEntity).countBy({ id: 1 })).toBe(1);
    } finally {
      await app.close();
    }
  });
});
