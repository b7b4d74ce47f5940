import { readFileSync } from 'node:fs';

import { expect, expectAccessible, hasJavaScript, test } from './fixtures/portal';

test.use({ locale: 'en-GB' });

// The demo's business customer: 44 orders, 836 documents, hundreds of invoices a year.
const BUSINESS = 'dana.fischer@example.com';

/** The names of a ZIP's entries, read from its central directory. */
function zipEntries(zip: Buffer): string[] {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    names.push(zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return names;
}

test('a business year of invoices comes by month, a quarter a page', async ({ page, signIn, shell }, testInfo) => {
  await signIn.as(BUSINESS);
  await page.goto('/invoices');
  if (hasJavaScript(testInfo)) await shell.hydrated();
  const years = page.getByRole('navigation', { name: 'Year' });
  await expect(years.locator('[aria-current="page"]')).toHaveCount(1);
  await expect(years.locator('[aria-current="page"]')).toHaveText('2026');
  const months = page.locator('section.month h2');
  await expect(months).toHaveCount(3);
  await expect(months.first()).toHaveText(/^[A-Z][a-z]+ 2026$/);
  await expect(page.locator('.month-summary').first()).toContainText(/Invoices: \d+ · payments: \d+/);
  // The page stays short, where one table of the year ran to 11,000 pixels.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(height).toBeLessThan(11_000);

  await page.getByRole('link', { name: 'Next page' }).click();
  await expect(page).toHaveURL(/year=2026&page=2/);
  await expect(page.getByText(/Page 2 of \d/)).toBeVisible();

  await years.getByRole('link', { name: '2025' }).click();
  await expect(page).toHaveURL(/year=2025$/);
  await expect(years.locator('[aria-current="page"]')).toHaveText('2025');
  await expect(months.first()).toHaveText('December 2025');
  await expectAccessible(page, testInfo);
});

test('the overview shows a handful of orders and all of them are a click away', async ({ page, signIn }, testInfo) => {
  await signIn.as(BUSINESS);
  const orders = page.locator('table.orders tbody tr');
  await expect(orders).toHaveCount(5);
  await page.getByRole('link', { name: 'All 44 orders' }).click();
  await expect(page).toHaveURL(/\/orders$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Orders');
  await expect(page.locator('.result-count')).toContainText('44 orders');
  await expect(orders).toHaveCount(20);

  await page.getByLabel('Year').selectOption('2025');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/year=2025/);
  await expect(page.locator('.result-count')).not.toContainText('44 orders');
  await expect(orders).not.toHaveCount(0);
  for (const date of await orders.locator('td:nth-child(3)').allInnerTexts()) expect(date).toContain('2025');
  await expectAccessible(page, testInfo);
});

test('pick documents and download them as one ZIP, or all of them, or the list', async ({ page, signIn }) => {
  await signIn.as('ben.okafor@example.com');
  await page.goto('/documents');
  const boxes = page.locator('table.documents tbody input[type="checkbox"]');
  await expect(boxes.first()).toBeVisible();
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  const [picked] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download selected (ZIP)' }).click(),
  ]);
  expect(picked.suggestedFilename()).toBe('documents.zip');
  const names = zipEntries(readFileSync(await picked.path()));
  expect(names).toHaveLength(4);
  expect(names.slice(-2)).toEqual(['manifest.csv', 'SHA256SUMS']);

  // Few enough to fetch while the reader waits (8 in these tests): a link that streams it.
  await page.goto('/documents?type=contract');
  const allLink = page.getByRole('link', { name: /^Download all \d+ \(ZIP\)$/ });
  const contracts = Number((await allLink.innerText()).match(/\d+/)![0]);
  const [all] = await Promise.all([page.waitForEvent('download'), allLink.click()]);
  expect(all.suggestedFilename()).toBe('contracts.zip');
  // Every contract, the manifest and the checksums.
  expect(zipEntries(readFileSync(await all.path()))).toHaveLength(contracts + 2);

  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export the list (CSV)' }).click(),
  ]);
  expect(csv.suggestedFilename()).toBe('contracts.csv');
  const text = readFileSync(await csv.path(), 'utf8');
  expect(text.startsWith('\uFEFFname,document_id,type,order,date,size')).toBe(true);
});

test('a big selection is prepared in the background and downloaded when ready', async ({ page, signIn }, testInfo) => {
  test.setTimeout(120_000);
  await signIn.as(BUSINESS);
  // One old order's invoices: more than a download fetches while the reader waits (8 here).
  // Each project takes an order of its own: files whose signed address is still at hand cost
  // nothing, so the second archive of the same files would simply stream.
  await page.goto('/documents?type=invoice&sort=date_asc');
  const cells = await page.locator('table.documents tbody tr td:nth-child(4)').allInnerTexts();
  const orders = [...new Set(cells.map((c) => c.trim()))];
  const order = orders[hasJavaScript(testInfo) ? 0 : 1];
  await page.goto(`/documents?type=invoice&order=${order}`);
  const count = Number((await page.locator('.result-count').innerText()).match(/\d+/)![0]);
  expect(count).toBeGreaterThan(8);
  await page.getByRole('button', { name: /^Download all \d+ \(ZIP\)$/ }).click();
  await expect(page).toHaveURL(/\/archives#archive-/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Downloads');
  // The other project may make the same archive for the same customer at the same time.
  const id = new URL(page.url()).hash.slice('#archive-'.length);
  const archive = page.locator(`[id="archive-${id}"]`);
  await expect(archive).toContainText(`invoices-${order}.zip`);
  // The page refreshes itself while the archive is made.
  await expect(archive).toContainText('Ready', { timeout: 90_000 });
  await expectAccessible(page, testInfo);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    archive.getByRole('link', { name: /^Download/ }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`invoices-${order}.zip`);
  const names = zipEntries(readFileSync(await download.path()));
  expect(names).toHaveLength(count + 2);
  expect(names.slice(-2)).toEqual(['manifest.csv', 'SHA256SUMS']);

  await archive.getByRole('button', { name: /^Delete/ }).click();
  await expect(page).toHaveURL(/\/archives$/);
  await expect(archive).toHaveCount(0);
});

test('an account manager takes a customer’s documents along from their screen', async ({ page, signIn }, testInfo) => {
  await signIn.asStaff();
  await page.goto('/manage/customers/cust_0002');
  const boxes = page.locator('table.documents tbody input[type="checkbox"]');
  await expect(boxes.first()).toBeVisible();
  await boxes.nth(0).check();
  const [picked] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download selected (ZIP)' }).click(),
  ]);
  // Named for the customer, so that a staff member's downloads folder stays readable.
  expect(picked.suggestedFilename()).toBe('cust_0002-documents.zip');
  expect(zipEntries(readFileSync(await picked.path()))).toHaveLength(3);

  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export the list (CSV)' }).click(),
  ]);
  expect(csv.suggestedFilename()).toBe('cust_0002-documents.csv');
  // Each row's address is the staff file route, which checks the staff session again.
  expect(readFileSync(await csv.path(), 'utf8')).toContain('/manage/customers/cust_0002/files/');

  const [payments] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: "Export the latest year's payments (CSV)" }).click(),
  ]);
  expect(payments.suggestedFilename()).toMatch(/^cust_0002-payments-\d{4}\.csv$/);

  await page.getByRole('link', { name: 'Your downloads' }).click();
  await expect(page).toHaveURL(/\/manage\/archives$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Downloads');
  await expectAccessible(page, testInfo);
});
