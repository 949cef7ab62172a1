import { Global, Module } from '@nestjs/common';
import { LoadShedder } from './load.shedder';

/** Admission of prediction work under load (LoadShedder), mounted by app.setup.ts before the body parsers. */
@Global()
@Module({
  providers: [LoadShedder],
  exports: [LoadShedder],
})
export class AdmissionModule {}
