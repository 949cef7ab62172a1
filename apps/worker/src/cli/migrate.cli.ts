import { AppConfig } from '@app/config';
import { runCli } from './cli-runner.util';
import { migrate, MIGRATE_USAGE } from './migrate.command';

runCli(MIGRATE_USAGE, async () => {
  const result = await migrate(AppConfig.fromEnvironment());
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.pending) process.exitCode = 1;
});
