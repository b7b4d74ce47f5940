import { expect, expectAccessible, hasJavaScript, test } from './fixtures/portal';
import type { Page, TestInfo } from '@playwright/test';

// An iPhone-sized screen: 390 CSS pixels wide.
test.use({ locale: 'en-GB', viewport: { width: 390, height: 844 }, hasTouch: true });

const BUSINESS = 'dana.fischer@example.com';

/** Nothing runs off the right edge: the page cannot be scrolled sideways. */
async function expectNoSideScroll(page: Page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
}

/** Every element `selector` finds is wholly inside the screen's width. */
async function expectInsideWidth(page: Page, selector: string) {
  const boxes = await page.locator(selector).evaluateAll((nodes) =>
    nodes.slice(0, 10).map((n) => {
      const r = n.getBoundingClientRect();
      return { left: r.left, right: r.right, text: (n as HTMLElement).innerText };
    }),
  );
  expect(boxes.length).toBeGreaterThan(0);
  for (const box of boxes) {
    expect(box.left, box.text).toBeGreaterThanOrEqual(0);
    expect(box.right, box.text).toBeLessThanOrEqual(390);
  }
}

/**
 * Runs axe on each of `pages` in English, then switches to German in the folded header menu
 * (once `ready` says the page can take the click) and runs it on each again.
 */
async function expectAccessibleInBothLanguages(page: Page, testInfo: TestInfo, pages: string[], ready: () => Promise<void>) {
  for (const path of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expectAccessible(page, testInfo);
  }
  await ready();
  await page.locator('.site-menu > summary').click();
  await page.getByRole('button', { name: 'Deutsch' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  for (const path of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expectAccessible(page, testInfo);
  }
}

/** A screenshot for a person to look at, in the ignored test-results folder. */
async function keep(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: testInfo.outputPath(`phone-${name}.png`), fullPage: false });
}

test('on a phone the header is a compact bar with a menu that opens', async ({ page, signIn, shell }, testInfo) => {
  await signIn.as(BUSINESS);
  if (hasJavaScript(testInfo)) await shell.hydrated();
  const header = await page.locator('.site-header').boundingBox();
  expect(header!.height).toBeLessThan(844 / 6);
  const menu = page.locator('.site-menu > summary');
  await expect(menu).toBeVisible();
  await expect(page.getByRole('link', { name: 'Documents', exact: true })).toBeHidden();
  await keep(page, testInfo, 'overview');
  // A <details>: it opens without JavaScript.
  await menu.click();
  await expect(page.getByRole('link', { name: 'Documents', exact: true })).toBeVisible();
  await keep(page, testInfo, 'menu');
  await page.getByRole('link', { name: 'Documents', exact: true }).click();
  await expect(page).toHaveURL(/\/documents$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Documents');
});

test('on a phone the lists show name, type, date and the actions without scrolling sideways', async ({ page, signIn }, testInfo) => {
  await signIn.as(BUSINESS);
  await page.goto('/documents');
  const row = page.locator('table.documents tbody tr').first();
  await expect(row).toBeVisible();
  await expectNoSideScroll(page);
  await expectInsideWidth(page, 'table.documents tbody tr td.name');
  await expectInsideWidth(page, 'table.documents tbody tr td:nth-child(3)');
  await expectInsideWidth(page, 'table.documents tbody tr td:nth-child(5)');
  await expectInsideWidth(page, 'table.documents td.actions a');
  await expect(row.getByRole('link', { name: /^View / })).toBeInViewport();
  await expect(row.getByRole('link', { name: /^Download / })).toBeInViewport();
  await keep(page, testInfo, 'documents');

  await page.goto('/invoices');
  await expect(page.locator('section.month').first()).toBeVisible();
  await expectNoSideScroll(page);
  await expectInsideWidth(page, 'section.month td.actions a');
  await keep(page, testInfo, 'invoices');

  await page.goto('/orders');
  await expectNoSideScroll(page);
  await keep(page, testInfo, 'orders');
  // An order with documents: the one of the newest invoice.
  await page.goto('/documents');
  await page.locator('table.documents tbody tr td:nth-child(4) a').first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Order /);
  await expectNoSideScroll(page);
  await expectInsideWidth(page, 'td.actions a');
  await keep(page, testInfo, 'order');
});

test('on a phone every page passes axe in English and German', async ({ page, signIn, shell }, testInfo) => {
  // Twelve pages, each checked twice over without JavaScript (see expectAccessible).
  test.setTimeout(240_000);
  await signIn.as('clara.jensen@example.org');
  await expectAccessibleInBothLanguages(
    page,
    testInfo,
    ['/', '/documents', '/orders', '/invoices', '/orders/ord_10003', '/archives'],
    () => (hasJavaScript(testInfo) ? shell.hydrated() : Promise.resolve()),
  );
});

test('on a phone an account manager’s customer screen and downloads pass axe and fit', async ({ page, signIn, shell }, testInfo) => {
  test.setTimeout(180_000);
  await signIn.asStaff();
  const pages = ['/manage/customers/cust_0004', '/manage/archives'];
  for (const path of pages) {
    await page.goto(path);
    await expectNoSideScroll(page);
  }
  await page.goto('/manage/customers/cust_0004');
  // The exports are where the thumb is, not off the right edge.
  await expectInsideWidth(page, '.exports a, .exports button');
  await expectInsideWidth(page, 'table.documents tbody td.actions a');
  await keep(page, testInfo, 'staff-customer');
  await expectAccessibleInBothLanguages(page, testInfo, pages, () =>
    hasJavaScript(testInfo) ? shell.hydrated() : Promise.resolve(),
  );
});
