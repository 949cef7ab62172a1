/// <reference lib="dom" />
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sharp from 'sharp';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UserAccounts } from '@app/accounts';
import { FeedbackEntity, ReviewItemEntity } from '@app/database';
import { trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'reviewer-password-for-tests';
const HOSTILE =
  '<p>Livre de cuisine</p><script>window.__ran = "script"</script>' +
  '<img src="x" onerror="window.__ran = \'onerror\'"><b onmouseover="window.__ran = \'hover\'">recettes</b>';
/** Set to a folder (docs/images) to keep the page's screenshots there. */
const SCREENSHOTS = process.env.REVIEW_SCREENSHOTS_DIR;

/**
 * The reviewers' page in a real browser (Debian's Chromium, driven by puppeteer-core): log in, label by keyboard
 * and by mouse, skip, with labels in the database and counted on the page; merchant HTML never runs.
 */
describe('the /review page in Chromium (e2e)', () => {
  let api: TestApi;
  let browser: Browser;
  let page: Page;
  let base: string;
  let dataSource: DataSource;
  let shots: string;

  beforeAll(async () => {
    shots = SCREENSHOTS ? resolve(SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'review-page-'));
    mkdirSync(shots, { recursive: true });
    api = await startTestApi({ AUDIT_SAMPLE_RATE: '0' });
    dataSource = api.app.get(DataSource);
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
    await api.app.get(UserAccounts).create({ username: 'rita', password: PASSWORD, roles: ['reviewer'] });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1366, height: 860 });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.app.close();
    if (!SCREENSHOTS && shots) rmSync(shots, { recursive: true, force: true });
  });

  async function listings(
    items: { designation: string; description?: string; image?: Buffer }[],
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const { image, ...item } of items) {
      const body = { ...item, ...(image && { image: image.toString('base64') }) };
      ids.push((await api.as('client').post('/v1/predictions').send(body).expect(200)).body.id);
    }
    const deadline = Date.now() + 10_000;
    const waiting = async () =>
      Number(
        (
          await dataSource.query(
            `SELECT COUNT(*) AS n FROM review_items r JOIN predictions p ON p.id = r.prediction_id
             WHERE r.status = 'pending'`,
          )
        )[0].n,
      );
    // Stored and queued: the queue hands out only listings whose prediction row is written.
    while ((await waiting()) < ids.length) {
      if (Date.now() > deadline) throw new Error('listings never reached the review queue');
      await new Promise((done) => setTimeout(done, 50));
    }
    return ids;
  }

  const text = (selector: string) => page.$eval(selector, (node) => node.textContent ?? '');
  const visible = (selector: string) =>
    page.waitForFunction((s) => !document.querySelector(s)?.closest('[hidden]'), {}, selector);

  /** The listing shown now, and the next one once the page has moved on. */
  async function shownId(): Promise<string> {
    await visible('#item');
    const title = await text('#title');
    const row = await dataSource.query(
      `SELECT r.prediction_id AS id FROM review_items r JOIN predictions p ON p.id = r.prediction_id
       WHERE r.leased_by = 'rita' AND r.status = 'pending' AND p.designation = ?`,
      [title],
    );
    expect(row).toHaveLength(1);
    return row[0].id;
  }
  async function movedOn(from: string, title: string): Promise<void> {
    await page.waitForFunction(
      (t) => document.getElementById('title')?.textContent !== t || !document.getElementById('empty')?.hidden,
      {},
      title,
    );
    expect(
      await dataSource.getRepository(ReviewItemEntity).findOneByOrFail({ predictionId: from }),
    ).not.toMatchObject({
      status: 'pending',
    });
  }
  const label = (id: string) => dataSource.getRepository(FeedbackEntity).findOneBy({ predictionId: id });

  it('serves the page with a policy that forbids inline script', async () => {
    const response = await request(api.http)
      .get('/review')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    const csp = response.headers['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toMatch(/default-src 'none'/);
    await request(api.http)
      .get('/review/review.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    await request(api.http).get('/review/nothing.js').expect(404);
  });

  it('logs in, labels by keyboard and by mouse, skips, counts, and never runs merchant HTML', async () => {
    await listings([
      { designation: 'Livre de recettes du monde', description: HOSTILE },
      { designation: 'Console de jeux portable', description: 'Avec deux manettes' },
      { designation: 'Figurine de collection peinte', description: 'Hauteur 20 cm' },
    ]);
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    page.on('dialog', (dialog) => void dialog.dismiss());
    await page.goto(`${base}/review`, { waitUntil: 'networkidle0' });
    await page.type('#username', 'rita');
    await page.type('#password', 'wrong-password');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '') !== '');
    await page.$eval('#password', (input) => ((input as HTMLInputElement).value = ''));
    await page.type('#password', PASSWORD);
    await page.click('#login button[type=submit]');

    const handled: { id: string; how: string; title: string; description: string }[] = [];
    for (const how of ['keyboard', 'mouse', 'skip']) {
      const id = await shownId();
      const title = await text('#title');
      const description = await text('#description');
      expect(await page.$$('#suggestions button')).toHaveLength(3);
      if (how === 'keyboard') {
        await page.keyboard.press('2');
        await page.keyboard.press('Enter');
      } else if (how === 'mouse') {
        await page.click('#search');
        await page.type('#search', '2583');
        await page.click('#categories button[data-code="2583"]');
        await page.click('#confirm');
      } else {
        await page.select('#skip-reason', 'no-fitting-category');
        await page.keyboard.press('s');
      }
      await movedOn(id, title);
      handled.push({ id, how, title, description });
    }

    const [byKeyboard, byMouse, skipped] = handled;
    const item = await dataSource
      .getRepository(ReviewItemEntity)
      .findOneByOrFail({ predictionId: byKeyboard.id });
    const top = (await api.as('ml-engineer').get(`/v1/predictions/${byKeyboard.id}`).expect(200)).body.top;
    expect(await label(byKeyboard.id)).toMatchObject({
      truePrdtypecode: top[1].prdtypecode,
      source: 'review',
      reportedBy: 'rita',
    });
    expect(item.label).toBe(top[1].prdtypecode);
    expect(await label(byMouse.id)).toMatchObject({ truePrdtypecode: 2583, source: 'review' });
    expect(await label(skipped.id)).toBeNull();
    expect(
      await dataSource.getRepository(ReviewItemEntity).findOneByOrFail({ predictionId: skipped.id }),
    ).toMatchObject({
      status: 'skipped',
      skipReason: 'no-fitting-category',
    });
    await visible('#empty');
    await page.waitForFunction(() => document.getElementById('labelled-today')?.textContent === '2');
    expect(await text('#left')).toBe('0');
    const stats = (
      await request(api.http)
        .get('/v1/review/stats')
        .set(
          'Authorization',
          `Bearer ${await page.evaluate(() => sessionStorage.getItem('review.accessToken'))}`,
        )
    ).body;
    expect(stats).toMatchObject({
      labelledToday: 2,
      labelledTodayByYou: 2,
      skippedTodayByReason: { 'no-fitting-category': 1 },
    });

    const hostile = handled.find((h) => h.title === 'Livre de recettes du monde')!;
    expect(hostile.description).toContain('Livre de cuisine');
    expect(hostile.description).toContain('recettes');
    expect(hostile.description).not.toContain('window.__ran');
    expect(await page.evaluate(() => (window as unknown as { __ran?: string }).__ran)).toBeUndefined();
    expect(violations).toEqual([]);
  });

  it('shows a listing with its photo on a laptop and on a phone', async () => {
    const photo = await sharp({
      create: { width: 320, height: 320, channels: 3, background: { r: 40, g: 150, b: 200 } },
    })
      .composite([
        {
          input: Buffer.from(
            '<svg width="320" height="320"><rect x="60" y="120" width="200" height="120" rx="16" fill="#f2f2f2"/>' +
              '<circle cx="160" cy="90" r="40" fill="#ffd166"/></svg>',
          ),
        },
      ])
      .jpeg()
      .toBuffer();
    await listings([
      {
        designation: 'Bâche à bulles pour piscine 4 x 8 m',
        description:
          '<p>Bâche solaire <b>400 microns</b>, bleue.</p><ul><li>Réchauffe l’eau de 3 à 5 °C</li>' +
          '<li>Limite l’évaporation</li></ul><script>window.__ran = "photo listing"</script>',
        image: photo,
      },
    ]);
    await page.click('#reload');
    await visible('#item');
    await page.waitForSelector('#photo img');
    expect(await page.$eval('#photo img', (img) => (img as HTMLImageElement).naturalWidth)).toBe(320);
    await page.keyboard.press('1');
    await page.screenshot({ path: join(shots, 'review-laptop.png') });
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForSelector('#photo img');
    await page.keyboard.press('1');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(shots, 'review-phone.png'), fullPage: true });
    for (const name of ['review-laptop.png', 'review-phone.png']) {
      expect(readFileSync(join(shots, name)).subarray(1, 4).toString()).toBe('PNG');
    }
    expect(await page.evaluate(() => (window as unknown as { __ran?: string }).__ran)).toBeUndefined();
  });
});
