import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig, ConfigModule } from '@app/config';
import { dataSourceOptions, initializeDataSource } from './data-source.options';
import { DATABASE_ENTITIES } from './database.schema';

/** The configured, migrated database: inject the DataSource or any entity's repository anywhere. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: dataSourceOptions,
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('DatabaseModule: no data source options');
        return initializeDataSource(options);
      },
    }),
    TypeOrmModule.forFeature(DATABASE_ENTITIES),
  ],
  exports: [TypeOrmModule],
})
export class DatabaseModule {}
