export { AccountsModule } from './accounts.module';
export { InvalidRefreshTokenError, RefreshTokens } from './refresh-tokens';
export {
  SERVICE_TOKEN_PREFIX,
  ServiceTokenNameTakenError,
  ServiceTokenNotFoundError,
  ServiceTokens,
  toServiceTokenView,
  type ServiceTokenView,
} from './service-tokens';
export { randomToken, tokenHash } from './token-hash';
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
} from './user-accounts';
