import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import {
  generatePassword,
  InvalidUserError,
  LastAdminError,
  ServiceTokenNameTakenError,
  ServiceTokenNotFoundError,
  ServiceTokens,
  UserAccounts,
  UsernameTakenError,
  UserNotFoundError,
} from '@app/accounts';
import { UsageError } from './cli-runner.util';

export const USAGE = `Usage: npm run user -- <command> [options]

Manages the users and service tokens of the configured database (DATABASE_URL, else the SQLite file under VAR_DIR).
  create --username NAME --role ROLE [--role ROLE...] [--password-stdin]
                          create a user; without --password-stdin a random password is generated and printed once
  disable --username NAME stop a user: no login, refresh tokens revoked, access tokens refused within
                          AUTH_CACHE_REFRESH_MS (5 s by default)
  enable --username NAME
  reset-password --username NAME [--password-stdin]
                          set a new password (generated and printed unless --password-stdin); revokes refresh tokens
  list                    every user
  create-service-token --name NAME --role ROLE [--role ROLE...] [--expires-in-days N]
                          a long-lived token for a machine (e.g. --role alertmanager); printed once
  revoke-service-token --name NAME
  list-service-tokens
Roles: admin, ml-engineer, client, alertmanager, monitoring, reviewer. Prints one JSON object on stdout.`;

/** A mistake the operator can fix (unknown user, weak password, taken name): one line, exit code 1. */
export class UserCommandError extends Error {}

export interface UserCommandIo {
  /** The whole of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
}

const OPTIONS = {
  username: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string', multiple: true },
  'password-stdin': { type: 'boolean' },
  'expires-in-days': { type: 'string' },
} as const;

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`--${flag} is required\n\n${USAGE}`);
  return value;
}

/**
 * Runs one `npm run user` command against an open data source and returns what to print. Shared logic with the
 * API (UserAccounts, ServiceTokens), so rules (username format, password length, roles) are the same.
 */
export async function runUserCommand(
  argv: string[],
  dataSource: DataSource,
  config: AppConfig,
  io: UserCommandIo,
): Promise<Record<string, unknown>> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) throw new UsageError(`give exactly one command\n\n${USAGE}`);
  const users = new UserAccounts(dataSource, config.env.BCRYPT_COST);
  const tokens = new ServiceTokens(dataSource);
  const password = async (): Promise<{ password: string; generated: boolean }> => {
    if (!values['password-stdin']) return { password: generatePassword(), generated: true };
    const typed = (await io.readStdin()).replace(/\r?\n$/, '');
    return { password: typed, generated: false };
  };

  try {
    switch (positionals[0]) {
      case 'create': {
        const username = required(values.username, 'username');
        const roles = values.role ?? [];
        if (roles.length === 0)
          throw new UsageError(`--role is required (repeat it for several)\n\n${USAGE}`);
        const secret = await password();
        const user = await users.create({ username, password: secret.password, roles });
        return secret.generated ? { user, password: secret.password } : { user };
      }
      case 'disable':
      case 'enable':
        return {
          user: await users.setDisabled(required(values.username, 'username'), positionals[0] === 'disable'),
        };
      case 'reset-password': {
        const username = required(values.username, 'username');
        const secret = await password();
        const user = await users.resetPassword(username, secret.password);
        return secret.generated ? { user, password: secret.password } : { user };
      }
      case 'list':
        return { users: await users.list() };
      case 'create-service-token': {
        const name = required(values.name, 'name');
        const roles = values.role ?? [];
        if (roles.length === 0) throw new UsageError(`--role is required\n\n${USAGE}`);
        const days = values['expires-in-days'];
        if (days !== undefined && !/^[1-9]\d{0,3}$/.test(days)) {
          throw new UsageError(`--expires-in-days must be a whole number of days between 1 and 9999`);
        }
        return tokens.create({
          name,
          roles,
          createdBy: 'cli',
          expiresAt: days ? new Date(Date.now() + Number(days) * 86_400_000) : null,
        }) as unknown as Promise<Record<string, unknown>>;
      }
      case 'revoke-service-token':
        return { serviceToken: await tokens.revoke(required(values.name, 'name')) };
      case 'list-service-tokens':
        return { serviceTokens: await tokens.list() };
      default:
        throw new UsageError(`unknown command "${positionals[0]}"\n\n${USAGE}`);
    }
  } catch (error) {
    const known = [
      InvalidUserError,
      LastAdminError,
      UserNotFoundError,
      UsernameTakenError,
      ServiceTokenNameTakenError,
      ServiceTokenNotFoundError,
    ];
    if (known.some((type) => error instanceof type)) throw new UserCommandError((error as Error).message);
    throw error;
  }
}
