export { passwordToken } from './api-token.fixture';
export { freePort, freePorts } from './free-port.fixture';
export { KeepAliveClient, type Exchange } from './keep-alive-client.fixture';
export {
  databaseSettings,
  objectStoreSettings,
  productionSettings,
  redisSettings,
  TEST_REDIS_URL,
  type DatabaseUnderTest,
  type ObjectStoreUnderTest,
} from './production-settings.fixture';
export {
  hasExited,
  killProcessGroup,
  lastLines,
  startNodeEntry,
  startProcess,
  stopProcess,
  waitFor,
  waitUntilAnswering,
  type ServiceProcess,
  type StartOptions,
} from './service-process.fixture';
