import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JOB_HANDLER_METADATA } from './job-handler.decorator';
import { RETRAINING_JOB_NAMES, type JobHandler, type RetrainingJobName } from './retraining-queue.types';

/** A method tagged with @OnJob, and where it is (Class.method), for the messages. */
export interface FoundJobHandler {
  name: string;
  label: string;
  handler: JobHandler;
}

/** A job name with no handler or two: the process cannot run its queue. */
export class JobHandlerSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobHandlerSetupError';
  }
}

/**
 * One handler per job name, or an error that says which name has none or which two handlers claim it (and which
 * tagged name is no job at all).
 */
export function jobHandlerMap(
  found: FoundJobHandler[],
  names: readonly string[] = RETRAINING_JOB_NAMES,
): Map<string, FoundJobHandler> {
  const handlers = new Map<string, FoundJobHandler>();
  for (const item of found) {
    if (!names.includes(item.name)) {
      throw new JobHandlerSetupError(
        `${item.label} handles the job "${item.name}", which no queue carries (jobs: ${names.join(', ')})`,
      );
    }
    const earlier = handlers.get(item.name);
    if (earlier) {
      throw new JobHandlerSetupError(
        `the job "${item.name}" has two handlers, ${earlier.label} and ${item.label}: keep one @OnJob('${item.name}')`,
      );
    }
    handlers.set(item.name, item);
  }
  const missing = names.filter((name) => !handlers.has(name));
  if (missing.length > 0) {
    throw new JobHandlerSetupError(
      `no handler for the job${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')}: ` +
        `tag the method that runs it with @OnJob('${missing[0]}') on a provider of this process`,
    );
  }
  return handlers;
}

/**
 * The job handlers of this process, found among its providers at startup (immich's job discovery): a process that
 * runs jobs fails to start, with the reason, when a job name has no handler or two.
 */
@Injectable()
export class JobHandlers implements OnModuleInit {
  private readonly logger = new Logger('JobHandlers');
  private handlers = new Map<string, FoundJobHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const found: FoundJobHandler[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      // A request-scoped provider has no instance at startup, and no queue job runs in a request.
      if (!wrapper.isDependencyTreeStatic()) continue;
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = (instance as Record<string, unknown>)[method];
        if (typeof target !== 'function') continue;
        const name = this.reflector.get<string | undefined>(JOB_HANDLER_METADATA, target);
        if (name === undefined) continue;
        found.push({
          name,
          label: `${instance.constructor.name}.${method}`,
          handler: (target as JobHandler).bind(instance),
        });
      }
    }
    this.handlers = jobHandlerMap(found);
    for (const item of this.handlers.values()) this.logger.log(`job "${item.name}" → ${item.label}`);
  }

  /** The handler of the jobs named `name`. */
  get(name: RetrainingJobName): JobHandler {
    const item = this.handlers.get(name);
    if (!item) throw new JobHandlerSetupError(`no handler for the job "${name}"`);
    return item.handler;
  }
}
