import type { DataSource } from 'typeorm';

/** A readiness check's answer, as /health/ready shows it. */
export type HealthCheck = { status: 'up' | 'down'; detail?: string };

/** How long a readiness probe waits for the database: a hung connection must not hang the probe. */
const CHECK_TIMEOUT_MS = 2000;

/** Whether the database answers a trivial query in time: the readiness check of every process. */
export async function checkDatabase(dataSource: DataSource): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([dataSource.query('SELECT 1'), timeout]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
