import { AsyncLocalStorage } from 'node:async_hooks';

/** What a log line is about, when it is about something: attached to every line logged within its scope. */
export interface LogFields {
  /** The HTTP request being answered (X-Request-Id). */
  requestId?: string;
  /** The retraining job being run. */
  jobId?: string;
  /** The model version serving the request, or being loaded. */
  modelVersion?: string;
}

const storage = new AsyncLocalStorage<LogFields>();

/**
 * The fields of the work in progress, carried across awaits by AsyncLocalStorage so that a service deep inside a
 * request or a job logs them without being handed them.
 */
export const LogContext = {
  /** Runs `work` with `fields` added to (or replacing) the enclosing scope's fields. */
  run<T>(fields: LogFields, work: () => T): T {
    return storage.run({ ...storage.getStore(), ...fields }, work);
  },

  /** Adds fields to the current scope, for what is logged from here on in it; nothing outside a scope. */
  assign(fields: LogFields): void {
    const store = storage.getStore();
    if (store) Object.assign(store, fields);
  },

  current(): LogFields {
    return storage.getStore() ?? {};
  },
};
