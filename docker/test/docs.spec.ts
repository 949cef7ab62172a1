import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { ENVIRONMENT_KEYS } from '@app/config';

const ROOT = resolve(__dirname, '../..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Markdown outside fenced code blocks, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(path: string): Set<string> {
  const headings = prose(readFileSync(path, 'utf8')).match(/^#{1,6} .+$/gm) ?? [];
  return new Set(headings.map((line) => slug(line.replace(/^#+ /, ''))));
}

/** Every relative link of a page that does not resolve to a file (and, with #anchor, to a heading in it). */
function brokenLinks(path: string): string[] {
  const targets = [...prose(readFileSync(path, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map(
    (match) => match[1],
  );
  return targets
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .filter((target) => {
      const [file, anchor] = target.split('#');
      const resolved = file === '' ? path : resolve(dirname(path), file);
      if (!existsSync(resolved)) return true;
      if (anchor === undefined) return false;
      return !statSync(resolved).isFile() || !anchors(resolved).has(anchor);
    })
    .map((target) => `${relative(ROOT, path)}: ${target}`);
}

describe('documentation', () => {
  it('has pages for each audience, linked from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const page of PAGES.filter((p) => p !== 'README.md')) expect(readme).toContain(`](${page})`);
  });

  it.each(PAGES)('%s: every relative link resolves, anchors included', (page) => {
    expect(brokenLinks(join(ROOT, page))).toEqual([]);
  });

  it('finds a broken link or anchor when there is one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
    try {
      writeFileSync(join(dir, 'b.md'), '# B\n\n## Using more cores: `SCORING_THREADS`\n');
      const links =
        '[gone](missing.md) [bad](b.md#nope) [good](b.md#using-more-cores-scoring_threads) [web](https://x.org)';
      writeFileSync(join(dir, 'a.md'), `${links}\n\n\`\`\`\n[in code](ignored.md)\n\`\`\`\n`);
      expect(brokenLinks(join(dir, 'a.md')).map((line) => line.split(': ')[1])).toEqual([
        'missing.md',
        'b.md#nope',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists exactly the configuration schema variables, one row each, in docs/configuration.md', () => {
    const rows =
      readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8').match(/^\| `[A-Z0-9_]+` +\|/gm) ?? [];
    const listed = rows.map((row) => /`([A-Z0-9_]+)`/.exec(row)![1]);
    expect(listed.length).toBe(new Set(listed).size);
    expect([...listed].sort()).toEqual([...ENVIRONMENT_KEYS].sort());
  });

  it('keeps the configuration table in one place', () => {
    for (const page of PAGES.filter((p) => p !== 'docs/configuration.md')) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      expect({ page, table: /^\| variable +\| default +\|/m.test(text) }).toEqual({ page, table: false });
    }
  });
});
