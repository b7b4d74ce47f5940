import { expect, expectAccessible, hasJavaScript, test } from './fixtures/portal';

test.use({ locale: 'en-GB' });

const CLARA = 'clara.jensen@example.org';

test('an account manager shares one order’s invoices, the link opens once and is revoked', async ({
  page,
  signIn,
  shell,
  browser,
}, testInfo) => {
  // Both projects run this at once against one server: each link gets its own label.
  const label = `Invoices for the accountant (${testInfo.project.name})`;

  await signIn.asStaff();
  await page.getByLabel('Email address, order ID or customer ID').fill(CLARA);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'Clara Jensen' }).click();
  await expect(shell.heading()).toHaveText('Clara Jensen');
  await expectAccessible(page, testInfo);

  // Share the first order, invoices only.
  const share = page.getByRole('link', { name: /^Share this order / }).first();
  const order = new URL((await share.getAttribute('href'))!, page.url()).searchParams.get('order')!;
  await share.click();
  await expect(shell.heading()).toHaveText('Create a portal link');
  await expect(page.getByLabel('One order')).toBeChecked();
  await expect(page.getByLabel('Order', { exact: true })).toHaveValue(order);
  await page.getByLabel('Invoice', { exact: true }).check();
  await page.getByLabel('Label (optional)').fill(label);
  await expectAccessible(page, testInfo);
  await page.getByRole('button', { name: 'Create link' }).click();

  await expect(page.getByRole('heading', { name: 'Your new link' })).toBeVisible();
  const url = await page.getByLabel('Link address').inputValue();
  expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{43}$/);
  if (hasJavaScript(testInfo)) {
    await shell.hydrated();
    await expect(page.getByRole('button', { name: 'Copy' })).toBeVisible();
  } else {
    await expect(page.getByRole('button', { name: 'Copy' })).toHaveCount(0);
  }

  // The recipient, in a browser of their own.
  const context = await browser.newContext({ javaScriptEnabled: hasJavaScript(testInfo), locale: 'en-GB' });
  const guest = await context.newPage();
  await guest.goto(url);
  await expect(guest.getByRole('heading', { level: 1 })).toHaveText(label);
  await expect(guest.getByText('Alex Morgan has shared documents of Clara Jensen with you.')).toBeVisible();
  await guest.getByRole('button', { name: 'Open documents' }).click();
  await expect(guest).toHaveURL(/\/documents$/);
  await expect(guest.getByText(/shared by Alex Morgan/)).toBeVisible();
  const rows = guest.locator('table.documents tbody tr');
  await expect(rows.first()).toBeVisible();
  // After the column of checkboxes that pick files for a ZIP.
  for (const type of await rows.locator('td:nth-child(3)').allInnerTexts()) expect(type).toBe('Invoice');
  for (const id of await rows.locator('td:nth-child(4)').allInnerTexts()) expect(id).toBe(order);

  // The register shows the one open.
  await page.goto('/manage/links?state=active');
  const row = page.locator('table.links tbody tr').filter({ hasText: label });
  await expect(row.locator('td').nth(6)).toHaveText('1');
  await expectAccessible(page, testInfo);
  await row.getByRole('button', { name: /^Revoke/ }).click();
  await expect(page.getByText('The link is revoked.')).toBeVisible();

  // The open session ends at its next request, and the link itself is gone.
  await guest.reload();
  await expect(guest.getByRole('heading', { level: 1 })).toHaveText('This link no longer works');
  const again = await guest.goto(url);
  expect(again!.status()).toBe(410);
  await expect(guest.getByText('The link was revoked.')).toBeVisible();
  await context.close();
});

test('customers and visitors find no staff screens', async ({ page, signIn }) => {
  const anonymous = await page.goto('/manage/links');
  expect(anonymous!.status()).toBe(404);
  await signIn.as(CLARA);
  const customer = await page.goto('/manage');
  expect(customer!.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await page.goto('/access');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Access to your documents');
});
