import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { RefreshTokens } from './refresh-tokens.service';
import { ServiceTokens } from './service-tokens.service';
import { UserAccounts } from './user-accounts.service';

/** Users, refresh tokens and service tokens over the configured database (DatabaseModule must be imported). */
@Module({
  providers: [
    {
      provide: UserAccounts,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig) =>
        new UserAccounts(dataSource, config.env.BCRYPT_COST),
    },
    {
      provide: ServiceTokens,
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => new ServiceTokens(dataSource),
    },
    {
      provide: RefreshTokens,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig) =>
        new RefreshTokens(dataSource, config.env.REFRESH_TOKEN_TTL_DAYS),
    },
  ],
  exports: [UserAccounts, ServiceTokens, RefreshTokens],
})
export class AccountsModule {}
