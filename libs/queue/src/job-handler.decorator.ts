import { SetMetadata } from '@nestjs/common';
import type { RetrainingJobName } from './retraining-queue.types';

export const JOB_HANDLER_METADATA = 'queue:job-handler';

/**
 * Marks a provider's method as the handler of the jobs named `name`: it receives a RunningJob. JobHandlers finds
 * it at startup; every job name needs exactly one.
 */
export const OnJob = (name: RetrainingJobName): MethodDecorator => SetMetadata(JOB_HANDLER_METADATA, name);
