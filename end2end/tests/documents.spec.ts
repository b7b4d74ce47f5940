import { expect, expectAccessible, hasJavaScript, test } from './fixtures/portal';

test.use({ locale: 'en-GB' });

const BUSINESS = 'dana.fischer@example.com';

test('filter the business customer’s documents by type and year', async ({ page, signIn, shell }, testInfo) => {
  await signIn.as(BUSINESS);
  await page.goto('/documents');
  await expect(page.locator('.result-count')).toContainText('836 documents');
  if (hasJavaScript(testInfo)) await shell.hydrated();
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

  await page.getByLabel('Type').selectOption('invoice');
  await page.getByLabel('Year').selectOption('2025');
  await page.getByRole('button', { name: 'Apply' }).click();

  await expect(page).toHaveURL(/type=invoice/);
  await expect(page).toHaveURL(/year=2025/);
  const count = page.locator('.result-count');
  await expect(count).not.toContainText('836');
  const rows = page.locator('table.documents tbody tr');
  await expect(rows.first()).toBeVisible();
  // The first column holds the checkboxes that pick files for a ZIP.
  for (const type of await rows.locator('td:nth-child(3)').allInnerTexts()) expect(type).toBe('Invoice');
  for (const date of await rows.locator('td:nth-child(5)').allInnerTexts()) expect(date).toContain('2025');
  // With WebAssembly the list updates in place; without it the form loads a new page.
  const marker = await page.evaluate(() => (window as unknown as { marker?: string }).marker);
  expect(marker).toBe(hasJavaScript(testInfo) ? 'same page' : undefined);

  // The filtered view is a bookmarkable address.
  await page.reload();
  await expect(page.getByLabel('Type')).toHaveValue('invoice');
  await expect(page.getByLabel('Year')).toHaveValue('2025');

  await page.getByRole('link', { name: 'Next page' }).click();
  await expect(page.getByText(/Page 2 of \d+/)).toBeVisible();
  await expectAccessible(page, testInfo);
});

test('open an order, view a PDF and download one', async ({ page, signIn }, testInfo) => {
  await signIn.as('ben.okafor@example.com');
  await page.getByRole('link', { name: 'ord_10001' }).first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Order ord_10001');
  await expect(page.getByRole('heading', { name: 'Items' })).toBeVisible();
  await expectAccessible(page, testInfo);

  // "View" answers with a redirect to a short-lived signed address serving the PDF inline.
  const viewHref = await page.getByRole('link', { name: /^View .*\.pdf$/ }).first().getAttribute('href');
  const viewed = await page.request.get(viewHref!);
  expect(viewed.status()).toBe(200);
  expect(viewed.headers()['content-type']).toBe('application/pdf');
  expect(viewed.headers()['content-disposition']).toMatch(/^inline/);
  expect((await viewed.body()).subarray(0, 5).toString()).toBe('%PDF-');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /^Download .*\.pdf$/ }).first().click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/\.pdf$/);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-');
});

test('the pages pass axe in English and German', async ({ page, signIn, shell }, testInfo) => {
  await signIn.as('clara.jensen@example.org');
  for (const path of ['/', '/documents', '/orders', '/invoices', '/orders/ord_10003', '/archives']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expectAccessible(page, testInfo);
  }
  if (hasJavaScript(testInfo)) await shell.hydrated();
  await page.getByRole('button', { name: 'Deutsch' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  await page.goto('/invoices');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Rechnungen');
  await expect(page.getByRole('heading', { level: 2 }).first()).toHaveText(/\d{4}$/);
  await expect(page.getByRole('table', { name: 'Zahlungen' }).first()).toBeVisible();
  await expectAccessible(page, testInfo);
});

test('anonymous pages pass axe and work by keyboard', async ({ page }, testInfo) => {
  for (const path of ['/', '/login', '/login/check', '/no/such/page']) {
    await page.goto(path);
    await expectAccessible(page, testInfo);
  }
  await page.goto('/login');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await page.getByLabel('Email address').focus();
  await page.keyboard.type('nobody@example.com');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Check your email');
});

test('another customer’s order is not found', async ({ page, signIn }) => {
  await signIn.as('ben.okafor@example.com');
  const response = await page.goto('/orders/ord_10019');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
});
