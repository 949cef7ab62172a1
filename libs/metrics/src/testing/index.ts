export {
  localMonitoringInstalled,
  startLocalMonitoring,
  type LocalMonitoring,
} from './local-monitoring.fixture';
