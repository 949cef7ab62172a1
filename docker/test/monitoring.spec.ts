import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AppConfig } from '@app/config';
import { asPlainPromql, metricNamesInExpr, monitoringExpressions } from './promql-metric-names';

const dockerDir = join(__dirname, '..');
const prometheusDir = join(dockerDir, 'prometheus');
const alertmanagerConfig = join(dockerDir, 'alertmanager', 'alertmanager.yml');
const dashboardsDir = join(dockerDir, 'grafana', 'dashboards');

/** Runs a tool and returns its output; a non-zero exit fails the test with everything the tool said. */
function run(command: string, args: string[], cwd = dockerDir): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe('monitoring configuration', () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'monitoring-'));
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('has a valid compose Prometheus configuration, its rules included', () => {
    expect(run('promtool', ['check', 'config', 'prometheus.yml'], prometheusDir)).toContain(
      '2 rule files found',
    );
  });

  it('has a valid AWS Prometheus configuration', () => {
    // On EC2 Prometheus reads the region from the instance metadata; offline the check needs one written in.
    const copy = join(work, 'aws');
    cpSync(prometheusDir, copy, { recursive: true });
    const config = parse(readFileSync(join(copy, 'prometheus.aws.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; ec2_sd_configs: { region?: string; port: number }[] }[];
    };
    expect(config.scrape_configs.map((job) => [job.job_name, job.ec2_sd_configs[0].port])).toEqual([
      ['api', 3000],
      ['worker', 3001],
    ]);
    for (const job of config.scrape_configs) job.ec2_sd_configs.forEach((sd) => (sd.region = 'eu-west-3'));
    writeFileSync(join(copy, 'prometheus.aws.yml'), stringify(config));
    expect(run('promtool', ['check', 'config', 'prometheus.aws.yml'], copy)).toContain('2 rule files found');
  });

  it('has valid alert rules that pass their unit tests', () => {
    const rules = readdirSync(join(prometheusDir, 'rules')).map((file) => join('rules', file));
    run('promtool', ['check', 'rules', ...rules], prometheusDir);
    const tests = readdirSync(join(prometheusDir, 'tests')).map((file) => join('tests', file));
    expect(tests.length).toBeGreaterThan(0);
    run('promtool', ['test', 'rules', ...tests], prometheusDir);
  });

  it('has a valid Alertmanager configuration', () => {
    expect(run('amtool', ['check-config', alertmanagerConfig])).toContain('SUCCESS');
  });

  it('routes the F1 alert, and only it, to the API webhook with the token file', () => {
    const route = (labels: string[]) =>
      run('amtool', ['config', 'routes', 'test', `--config.file=${alertmanagerConfig}`, ...labels]).trim();
    expect(route(['alertname=ModelF1BelowThreshold', 'model_version=v1'])).toBe('retraining');
    expect(route(['alertname=RetrainingJobsFailing'])).toBe('null');

    const config = parse(readFileSync(alertmanagerConfig, 'utf8')) as {
      receivers: { name: string; webhook_configs?: Record<string, unknown>[] }[];
    };
    const retraining = config.receivers.find((receiver) => receiver.name === 'retraining');
    expect(retraining?.webhook_configs).toEqual([
      {
        url: 'http://api:3000/v1/webhooks/alertmanager',
        send_resolved: true,
        // The API's default WEBHOOK_ALERT_LIMIT: a larger group is truncated rather than refused with 413.
        max_alerts: AppConfig.fromEnvironment({}).env.WEBHOOK_ALERT_LIMIT,
        http_config: {
          authorization: { type: 'Bearer', credentials_file: '/run/secrets/alertmanager_webhook_token' },
        },
      },
    ]);
    expect(config.receivers.find((receiver) => receiver.name === 'null')).toEqual({ name: 'null' });
  });
});

describe('Grafana dashboards', () => {
  const files = readdirSync(dashboardsDir).filter((file) => file.endsWith('.json'));
  const dashboards = files.map(
    (file) =>
      JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as {
        uid: string;
        title: string;
        panels: { title: string; datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
      },
  );

  it('are the API, model and training dashboards with unique uids', () => {
    expect(files.sort()).toEqual(['api.json', 'model.json', 'training.json']);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
  });

  it('query the provisioned Prometheus data source', () => {
    const datasources = parse(
      readFileSync(join(dockerDir, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as { datasources: { uid: string; url: string }[] };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    for (const panel of dashboards.flatMap((d) => d.panels)) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const source of [panel.datasource, ...panel.targets.map((t) => t.datasource)]) {
        expect(source.uid).toBe('prometheus');
      }
    }
  });

  it('show the forming tail on the API dashboard: event-loop delay, requests in flight against the limit, shed', () => {
    const api = monitoringExpressions(dockerDir).filter(({ source }) => source.startsWith('api.json: '));
    const panelsReading = (metric: string) =>
      api.filter(({ expr }) => metricNamesInExpr(expr).includes(metric)).map(({ source }) => source);
    expect(panelsReading('nodejs_eventloop_lag_p50_seconds')).toHaveLength(1);
    expect(panelsReading('nodejs_eventloop_lag_p99_seconds')).toEqual(
      panelsReading('nodejs_eventloop_lag_p50_seconds'),
    );
    const admission = panelsReading('prediction_requests_in_flight');
    expect(admission).toHaveLength(1);
    expect(panelsReading('prediction_requests_in_flight_limit')).toEqual(admission);
    expect(panelsReading('prediction_requests_shed_total')).toEqual(admission);
  });

  it('hold PromQL that Prometheus parses', () => {
    const work = mkdtempSync(join(tmpdir(), 'dashboards-'));
    try {
      const queries = monitoringExpressions(dockerDir).filter(({ source }) => source.includes('.json: '));
      const rules = queries.map(({ expr }, i) => ({
        record: `dashboard:query_${i}`,
        expr: asPlainPromql(expr),
      }));
      writeFileSync(
        join(work, 'dashboards.rules.yml'),
        stringify({ groups: [{ name: 'dashboards', rules }] }),
      );
      expect(run('promtool', ['check', 'rules', 'dashboards.rules.yml'], work)).toContain(
        `${queries.length} rules found`,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('metricNamesInExpr', () => {
  it('names the metrics, not the functions, keywords, labels or histogram suffixes', () => {
    expect(
      metricNamesInExpr(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="api"}[$__rate_interval])))',
      ),
    ).toEqual(['http_request_duration_seconds']);
    expect(
      metricNamesInExpr(
        'max by (model_version) (model_live_weighted_f1) < on () group_left () max(model_live_f1_threshold) and on (model_version) (model_info == 1)',
      ),
    ).toEqual(['model_info', 'model_live_f1_threshold', 'model_live_weighted_f1']);
  });
});
