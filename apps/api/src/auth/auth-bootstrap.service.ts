import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { generatePassword, ServiceTokens, UserAccounts, UsernameTakenError } from '@app/accounts';
import { AuthState } from './auth-state.service';

/** The name of the service token seeded from ALERTMANAGER_WEBHOOK_TOKEN. */
export const ALERTMANAGER_TOKEN_NAME = 'alertmanager';

/** Starts the one log line that holds a generated admin password (and nothing else after it). */
export const ADMIN_PASSWORD_LABEL = 'admin password:';

/**
 * At boot: makes sure an administrator exists, and that ALERTMANAGER_WEBHOOK_TOKEN (when set) is a valid service
 * token with the `alertmanager` role.
 *
 * With no enabled admin: ADMIN_USERNAME/ADMIN_PASSWORD create one; without them, a user `admin` is created with
 * a random password printed once in the log (the quick start). Replicas starting together race on the unique
 * username: only the one that created the user prints a password.
 */
@Injectable()
export class AuthBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly config: AppConfig,
    private readonly users: UserAccounts,
    private readonly serviceTokens: ServiceTokens,
    private readonly state: AuthState,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
    await this.seedAlertmanagerToken();
  }

  private async ensureAdmin(): Promise<void> {
    if (await this.users.hasEnabledAdmin()) return;
    const { ADMIN_USERNAME, ADMIN_PASSWORD } = this.config.env;
    const username = ADMIN_USERNAME?.toLowerCase() ?? 'admin';
    const password = ADMIN_PASSWORD ?? generatePassword();
    try {
      await this.users.create({ username, password, roles: ['admin'] });
    } catch (error) {
      if (!(error instanceof UsernameTakenError)) throw error;
      if (await this.users.hasEnabledAdmin()) return; // another replica just created it
      this.logger.error(
        `there is no enabled admin and the username "${username}" is taken by a user who is not one: ` +
          `grant it the admin role with npm run user, or set ADMIN_USERNAME to a free name`,
      );
      return;
    }
    if (ADMIN_PASSWORD) {
      this.logger.log(`created the admin user "${username}" from ADMIN_USERNAME/ADMIN_PASSWORD`);
    } else {
      // The password on a line of its own, so that it is found at a glance and copied without its neighbours;
      // the advice around it says what it is and that it will not be shown again.
      this.logger.warn(
        `no admin existed: created the user "${username}" with the random password on the next line, shown ` +
          `this once (set ADMIN_USERNAME/ADMIN_PASSWORD to choose them instead)`,
      );
      this.logger.warn(`${ADMIN_PASSWORD_LABEL} ${password}`);
      this.logger.warn(`change it with: npm run user -- reset-password --username ${username}`);
    }
  }

  private async seedAlertmanagerToken(): Promise<void> {
    const secret = this.config.env.ALERTMANAGER_WEBHOOK_TOKEN;
    if (!secret) return;
    const outcome = await this.serviceTokens.seed(ALERTMANAGER_TOKEN_NAME, secret, ['alertmanager']);
    if (outcome !== 'unchanged') {
      this.logger.log(
        `service token "${ALERTMANAGER_TOKEN_NAME}" ${outcome} from ALERTMANAGER_WEBHOOK_TOKEN`,
      );
      // The state was loaded before this ran: forget a replaced secret now rather than at the next reload.
      await this.state.reload();
    }
  }
}
