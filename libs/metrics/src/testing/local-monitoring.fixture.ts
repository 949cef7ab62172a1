import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  freePorts,
  killProcessGroup,
  startProcess,
  waitUntilAnswering,
  type ServiceProcess,
  type StartOptions,
} from '@app/config/testing';

/** Its docker/prometheus rule and docker/alertmanager routing are the ones run. */
const REPOSITORY_ROOT = resolve(__dirname, '../../../..');
const PROMETHEUS_BINARY = '/usr/bin/prometheus';
const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

/** Whether Prometheus and Alertmanager are installed (apt's prometheus and prometheus-alertmanager). */
export function localMonitoringInstalled(): boolean {
  return [PROMETHEUS_BINARY, ALERTMANAGER_BINARY].every((path) => existsSync(path));
}

export interface LocalMonitoringOptions {
  /** Where the configuration and the data directories go. */
  dir: string;
  /** The API that Prometheus scrapes and Alertmanager calls, e.g. http://127.0.0.1:3000. */
  api: string;
  webhookToken: string;
  prometheusPort: number;
  alertmanagerPort: number;
  /** ModelF1BelowThreshold's `for` (the repository says 15m). */
  alertFor: string;
  /** ModelDrift's `for` (the repository says 10m); default: alertFor. */
  driftAlertFor?: string;
  /** Alertmanager's repeat_interval (its group waits become 1 s). */
  repeatInterval: string;
}

/**
 * Prometheus and Alertmanager for tests and benchmarks on one machine: the repository's rule and routing with short
 * timings, pointed at a local API. Returns the arguments of the two processes (plain binaries from apt).
 */
function writeLocalMonitoring(options: LocalMonitoringOptions): {
  prometheusArgs: string[];
  alertmanagerArgs: string[];
} {
  const { dir, api } = options;
  const rules = parse(readFileSync(join(REPOSITORY_ROOT, 'docker/prometheus/rules/model.rules.yml'), 'utf8'));
  for (const group of rules.groups) {
    group.interval = '1s';
    for (const rule of group.rules) {
      if (rule.alert === 'ModelF1BelowThreshold') rule.for = options.alertFor;
      if (rule.alert === 'ModelDrift') rule.for = options.driftAlertFor ?? options.alertFor;
    }
  }
  writeFileSync(join(dir, 'model.rules.yml'), stringify(rules));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'model.rules.yml')],
      alerting: {
        alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${options.alertmanagerPort}`] }] }],
      },
      scrape_configs: [{ job_name: 'api', static_configs: [{ targets: [new URL(api).host] }] }],
    }),
  );
  const routing = parse(readFileSync(join(REPOSITORY_ROOT, 'docker/alertmanager/alertmanager.yml'), 'utf8'));
  Object.assign(routing.route, {
    group_wait: '1s',
    group_interval: '1s',
    repeat_interval: options.repeatInterval,
  });
  writeFileSync(join(dir, 'webhook-token'), options.webhookToken);
  for (const receiver of routing.receivers) {
    for (const hook of receiver.webhook_configs ?? []) {
      hook.url = `${api}/v1/webhooks/alertmanager`;
      hook.http_config.authorization.credentials_file = join(dir, 'webhook-token');
    }
  }
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(routing));
  return {
    prometheusArgs: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${options.prometheusPort}`,
    ],
    alertmanagerArgs: [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${options.alertmanagerPort}`,
      '--cluster.listen-address=',
    ],
  };
}

export interface LocalMonitoring {
  /** Prometheus's URL. */
  prometheus: string;
  /** Prometheus and Alertmanager, for the caller to stop with its other processes. */
  processes: ServiceProcess[];
  /** The alerts firing in Prometheus now. */
  firingAlerts(): Promise<{ labels: Record<string, string> }[]>;
}

/**
 * Prometheus and Alertmanager as writeLocalMonitoring configures them, on free ports, started and answering.
 * `show` gives each process's start options by name (e.g. to print its warnings).
 */
export async function startLocalMonitoring(
  options: Omit<LocalMonitoringOptions, 'prometheusPort' | 'alertmanagerPort'>,
  show: (name: string) => StartOptions = () => ({}),
): Promise<LocalMonitoring> {
  const [prometheusPort, alertmanagerPort] = await freePorts(2);
  const { prometheusArgs, alertmanagerArgs } = writeLocalMonitoring({
    ...options,
    prometheusPort,
    alertmanagerPort,
  });
  const processes = [
    startProcess('prometheus', PROMETHEUS_BINARY, prometheusArgs, show('prometheus')),
    startProcess('alertmanager', ALERTMANAGER_BINARY, alertmanagerArgs, show('alertmanager')),
  ];
  const prometheus = `http://127.0.0.1:${prometheusPort}`;
  try {
    await waitUntilAnswering(processes[0], `${prometheus}/-/ready`, 60_000);
    await waitUntilAnswering(processes[1], `http://127.0.0.1:${alertmanagerPort}/-/ready`, 60_000);
  } catch (error) {
    for (const service of processes) killProcessGroup(service);
    throw error;
  }
  return {
    prometheus,
    processes,
    firingAlerts: async () => {
      const body = (await (await fetch(`${prometheus}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      return body.data.alerts.filter((alert) => alert.state === 'firing');
    },
  };
}
