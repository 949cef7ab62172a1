import { AppConfig, ConfigValidationError } from '@app/config';
import { openDataSource } from '@app/database';
import { runCli } from './cli-runner.util';
import { runUserCommand, USAGE, UserCommandError } from './user.command';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

runCli(USAGE, async () => {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnvironment();
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const dataSource = await openDataSource(config);
  try {
    const result = await runUserCommand(process.argv.slice(2), dataSource, config, { readStdin });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    if (!(error instanceof UserCommandError)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 1;
  } finally {
    await dataSource.destroy();
  }
});
