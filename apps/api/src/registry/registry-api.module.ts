import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { RegistryController } from './registry.controller';

@Module({ imports: [ServingModule], controllers: [RegistryController] })
export class RegistryApiModule {}
