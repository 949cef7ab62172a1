import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
]);
// Grafana's interval variables are not PromQL; a fixed range stands in for them.
const GRAFANA_INTERVALS = /\$__(rate_)?interval\b/g;

/** Replaces Grafana's interval variables so the expression parses as plain PromQL. */
export function asPlainPromql(expr: string): string {
  return expr.replace(GRAFANA_INTERVALS, '5m');
}

/** The metric names an expression reads (histogram series folded onto the histogram's name). */
export function metricNamesInExpr(expr: string): string[] {
  const stripped = asPlainPromql(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    // Label matchers, ranges and grouping label lists hold label names and durations, not metric names.
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:$])([a-zA-Z_:][\w:]*)(?=\s*[{[)]|\s|$)/g)) {
    const name = match[1];
    if (KEYWORDS.has(name) || /\s*\(/y.test(stripped.slice(match.index + name.length))) continue;
    names.add(name.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names].sort();
}

/** Every PromQL expression of the alert rules and the Grafana dashboards, labelled by where it comes from. */
export function monitoringExpressions(dockerDir: string): { source: string; expr: string }[] {
  const found: { source: string; expr: string }[] = [];
  const rulesDir = join(dockerDir, 'prometheus', 'rules');
  for (const file of readdirSync(rulesDir).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(rulesDir, file), 'utf8')) as {
      groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
    };
    for (const rule of doc.groups.flatMap((g) => g.rules)) {
      found.push({ source: `${file}: ${rule.alert ?? rule.record}`, expr: rule.expr });
    }
  }
  const dashboardsDir = join(dockerDir, 'grafana', 'dashboards');
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as {
      panels: { title: string; targets?: { expr?: string }[] }[];
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) found.push({ source: `${file}: ${panel.title}`, expr: target.expr });
      }
    }
  }
  return found;
}

/** The metric names the rules and dashboards rely on. */
export function monitoringMetricNames(dockerDir: string): string[] {
  return [...new Set(monitoringExpressions(dockerDir).flatMap(({ expr }) => metricNamesInExpr(expr)))].sort();
}
