export { AccountsModule } from './accounts.module';
export { InvalidRefreshTokenError, RefreshTokens } from './refresh-tokens.service';
export {
  SERVICE_TOKEN_PREFIX,
  ServiceTokenNameTakenError,
  ServiceTokenNotFoundError,
  ServiceTokens,
  toServiceTokenView,
  type ServiceTokenView,
} from './service-tokens.service';
export { randomToken, tokenHash } from './token-hash.util';
export {
  checkPassword,
  checkRoles,
  generatePassword,
  InvalidUserError,
  LastAdminError,
  MIN_PASSWORD_LENGTH,
  normalizeUsername,
  toUserView,
  UserAccounts,
  UsernameTakenError,
  UserNotFoundError,
  type UserChanges,
  type UserView,
} from './user-accounts.service';
