export {
  ALERTMANAGER_BINARY,
  PROMETHEUS_BINARY,
  writeLocalMonitoring,
  type LocalMonitoringOptions,
} from './local-monitoring.fixture';
