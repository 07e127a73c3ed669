import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { credentials } from '@grpc/grpc-js';
import { alertingV1 } from '@oncall/contracts/grpc';
import { createApiToken, fileUserDirectory } from '@oncall/shared';
import { amAlert, amPayload } from './fixtures.js';
import type { ConsoleServer } from '@oncall/query-api';
import { startTestConsole } from './console-setup.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = fileURLToPath(new URL('../console/dist', import.meta.url));
const USERS = fileUserDirectory(
  ['alice', 'bob', 'carol'].map((id) => ({
    id,
    name: id[0]!.toUpperCase() + id.slice(1),
    email: `${id}@example.com`,
    timezone: 'UTC',
    contacts: [],
  })),
);
const HOUR = 3_600_000;

/**
 * The NOC console in a real browser (Debian's chromium driven by playwright-core) against the real
 * pipeline: webhook → decider → projector → NOTIFY → the console's live stream → the page.
 */
describe('the NOC console in chromium', () => {
  let p: TestPipeline;
  let server: ConsoleServer;
  let consoleUrl: string;
  let browser: Browser;
  let schedules: alertingV1.ScheduleServiceClient;
  const tokens: Record<string, string> = {};
  /** Script and console errors in any page: none is expected (checked after each test). */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(`${DIST}/index.html`))
      execFileSync('npx', ['vite', 'build', 'console', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
    p = await startTestPipeline({ partitions: 2, users: USERS });
    for (const [name, scopes, userId] of [
      ['alice', ['read', 'respond', 'write'], 'alice'],
      ['carol', ['read'], 'carol'],
    ] as const)
      tokens[name] = (await createApiToken(p.admin, { name, scopes: [...scopes], userId, expiresAt: null })).token;
    // The production delta interval (250 ms): the 2 s figure below is what a person would see.
    server = await startTestConsole(p, { dist: DIST, users: USERS });
    consoleUrl = server.url;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    schedules = new alertingV1.ScheduleServiceClient(p.grpcAddress, credentials.createInsecure(), p.clientOptions);
  });
  afterEach(() => expect(pageErrors).toEqual([]));
  afterAll(async () => {
    schedules?.close();
    await browser?.close();
    await server?.stop();
    await p?.stop();
  });

  /** A fresh browser profile signed in through the login page with `token`, on the board. */
  async function signedIn(token: string, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'Europe/Amsterdam' });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Console errors too (a Content-Security-Policy refusal shows only there); the 401s of signing in are expected.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && pageErrors.push(m.text()));
    await page.goto(`${consoleUrl}${path}`);
    // Not signed in: the page goes to /login, remembering where it was.
    await page.waitForURL((u) => u.pathname === '/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe(path);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname + u.search === path);
    return { context, page };
  }

  const postAlert = (name: string, labels: Record<string, string> = {}) => p.openAlert(name, labels);

  const row = (page: Page, id: string) => page.locator(`[role=row][data-alert-id="${id}"]`);

  it('refuses a wrong token plainly, then signs in and loads the board with the open alerts', async () => {
    const id = await postAlert('BoardLoads', { site: 'ams2' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${consoleUrl}/`);
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^Sign-in refused: .+/);
    await context.close();

    const { context: signed, page: board } = await signedIn(tokens.alice!);
    await row(board, id).waitFor();
    expect(await row(board, id).getAttribute('aria-label')).toBe('critical triggered: BoardLoads is down');
    // The keyboard opens it (Enter on the row), Back returns to the board.
    await row(board, id).focus();
    await board.keyboard.press('Enter');
    await board.waitForURL((u) => u.pathname === `/alerts/${id}`);
    await board.getByRole('heading', { name: /BoardLoads is down/ }).waitFor();
    await board.goBack();
    await row(board, id).waitFor();
    // The wall screen: the same rows, no navigation.
    await board.goto(`${consoleUrl}/?wall=1`);
    await row(board, id).waitFor();
    expect(await board.getByRole('navigation').count()).toBe(0);
    await signed.close();
  });

  it('shows an alert posted by webhook without a reload, within 2 s', async () => {
    const { context, page } = await signedIn(tokens.alice!);
    await page.locator('[data-live=live]').waitFor();
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    const alert = amAlert('LiveArrival');
    const t0 = performance.now();
    expect((await p.postAlertmanager(amPayload([alert]))).status).toBe(202);
    await page.locator('[role=row][data-alert-id]', { hasText: 'LiveArrival is down' }).waitFor({ timeout: 5000 });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect(loads).toEqual([]);
    await context.close();
  });

  it('acknowledges from the alert page: the status, the timeline and the board row change', async () => {
    const id = await postAlert('AckMe');
    const { context, page: board } = await signedIn(tokens.alice!);
    await row(board, id).waitFor();
    expect(await row(board, id).getAttribute('data-status')).toBe('triggered');

    const page = await context.newPage();
    await page.goto(`${consoleUrl}/alerts/${id}`);
    await page.locator('[data-testid=alert-status]', { hasText: 'triggered' }).waitFor();
    const before = await page.locator('.timeline li').count();
    await page.locator('[data-action=acknowledge]').click();
    await page.locator('.action-result', { hasText: /acknowledged/i }).waitFor();
    await page.locator('[data-testid=alert-status]', { hasText: 'acknowledged' }).waitFor();
    await expect.poll(() => page.locator('.timeline li').count()).toBeGreaterThan(before);
    // Newest first: the acknowledgement is at the top, by alice.
    expect(await page.locator('.timeline li').first().textContent()).toMatch(/alice/);
    // The other tab's board, live.
    await board.locator(`[role=row][data-alert-id="${id}"][data-status=acknowledged]`).waitFor();
    expect(await row(board, id).locator('.c-acked').textContent()).toBe('alice');
    // Acknowledge is no longer offered; unacknowledge and resolve are.
    expect(await page.locator('[data-action=acknowledge]').count()).toBe(0);
    expect(await page.locator('[data-action=resolve]').count()).toBe(1);
    await context.close();
  });

  it("filters by site: only that site's rows, and the URL keeps the filter", async () => {
    const ams = await postAlert('SiteAms', { site: 'ams2' });
    const fra = await postAlert('SiteFra', { site: 'fra1' });
    const { context, page } = await signedIn(tokens.alice!);
    await row(page, fra).waitFor();
    await page.getByRole('searchbox', { name: 'Filter' }).fill('site=ams2');
    await page.waitForURL((u) => u.searchParams.get('site') === 'ams2');
    await row(page, fra).waitFor({ state: 'detached' });
    await row(page, ams).waitFor();
    const sites = await page.locator('[role=row][data-alert-id] .c-site').allTextContents();
    expect(sites.length).toBeGreaterThan(0);
    expect(new Set(sites)).toEqual(new Set(['ams2']));
    // A link reproduces the view.
    const link = page.url();
    const other = await context.newPage();
    await other.goto(link);
    await row(other, ams).waitFor();
    expect(await row(other, fra).count()).toBe(0);
    expect(await other.getByRole('searchbox', { name: 'Filter' }).inputValue()).toBe('site=ams2');
    await context.close();
  });

  it('draws who is on call as GetOnCallUsers answers, at three instants, and creates an override from the page', async () => {
    const schedule = await new Promise<alertingV1.Schedule>((resolve, reject) =>
      schedules.createSchedule(
        alertingV1.CreateScheduleRequest.fromPartial({
          name: 'Browser NOC',
          timezone: 'Europe/Amsterdam',
          rotations: [
            {
              name: 'Days',
              rotationType: alertingV1.RotationType.ROTATION_TYPE_DAILY,
              shiftLength: 1,
              startTime: new Date('2026-01-05T08:00:00Z'),
              handoffTime: '09:00',
              memberUserIds: ['alice', 'bob'],
            },
          ],
        }),
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    const onCallAt = (at: number) =>
      new Promise<string[]>((resolve, reject) =>
        schedules.getOnCallUsers({ scheduleId: schedule.id, at: new Date(at) }, (err, res) =>
          err ? reject(err) : resolve([...res.userIds].sort()),
        ),
      );
    const { context, page } = await signedIn(tokens.alice!, '/oncall');
    const chart = page.locator(`.oc-chart[data-schedule-id="${schedule.id}"]`);
    await chart.locator('[data-row=final] li[data-user-id]').first().waitFor();

    // An override from the form: carol instead of whoever holds a shift four days out, 6 hours.
    const start = Math.ceil(Date.now() / HOUR) * HOUR + 4 * 24 * HOUR;
    const replaced = (await onCallAt(start))[0]!;
    const local = (ms: number) =>
      new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Amsterdam', dateStyle: 'short', timeStyle: 'short' })
        .format(ms)
        .replace(' ', 'T');
    const form = page.getByRole('form', { name: `Create an override on ${schedule.id}` });
    await form.getByLabel('User', { exact: true }).fill('carol');
    await form.getByLabel('Replaces (optional)').fill(replaced);
    await form.getByLabel(/^Start/).fill(local(start));
    await form.getByLabel(/^End/).fill(local(start + 6 * HOUR));
    await form.getByRole('button', { name: 'Create override' }).click();
    await form.getByRole('status').filter({ hasText: 'Override created' }).waitFor();
    await chart.locator('[data-row=overrides] li[data-user-id=carol]').waitFor();

    /** The final row's shifts as drawn, and who it shows at `at`. */
    const drawn = await Promise.all(
      (await chart.locator('[data-row=final] li[data-user-id]').all()).map(async (l) => ({
        userId: (await l.getAttribute('data-user-id'))!,
        start: Date.parse((await l.getAttribute('data-start'))!),
        end: Date.parse((await l.getAttribute('data-end'))!),
      })),
    );
    const drawnAt = (at: number) =>
      drawn
        .filter((s) => s.start <= at && at < s.end)
        .map((s) => s.userId)
        .sort();
    const instants = [Date.now() + HOUR, Date.now() + 2 * 24 * HOUR + 5 * HOUR, start + 3 * HOUR];
    for (const at of instants) {
      const expected = await onCallAt(at);
      expect(expected.length, new Date(at).toISOString()).toBeGreaterThan(0);
      expect(drawnAt(at), new Date(at).toISOString()).toEqual(expected);
    }
    expect(drawnAt(start + 3 * HOUR)).toEqual(['carol']);
    // Handoffs are marked: a daily rotation hands off every day of the 14.
    expect(await chart.locator('[data-row=handoffs] li[data-at]').count()).toBeGreaterThanOrEqual(13);
    await context.close();
  });

  it('the health page shows the open alerts by site, as the alerts are, and the volume chart', async () => {
    await postAlert('HealthAms', { site: 'ams2' });
    const { AlertStatus } = alertingV1;
    const openAtAms = (await p.listAlerts()).filter(
      (a) => a.labels.site === 'ams2' && a.status !== AlertStatus.ALERT_STATUS_RESOLVED,
    ).length;
    const { context, page } = await signedIn(tokens.carol!, '/health');
    const bySite = page.getByRole('region', { name: 'Open by site' });
    const ams = bySite.getByRole('row', { name: /^ams2 / });
    await ams.waitFor();
    expect((await ams.getByRole('cell').allTextContents())[0]).toBe(String(openAtAms));
    expect(await page.getByRole('img', { name: /^Alerts per hour, last \d+ hours: \d+ in all/ }).count()).toBe(1);
    await context.close();
  });

  it('a read-only token sees the alert but no action buttons; signing out ends the session', async () => {
    const id = await postAlert('ReadOnly');
    const { context, page } = await signedIn(tokens.carol!, `/alerts/${id}`);
    await page.locator('[data-testid=alert-status]', { hasText: 'triggered' }).waitFor();
    await page.locator('.no-actions').waitFor();
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.getByRole('button', { name: /acknowledge|resolve|escalate|snooze/i }).count()).toBe(0);
    // Signing out ends the session: the next page asks for a token again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.goto(`${consoleUrl}/oncall`);
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/oncall');
    await context.close();
  });
});
