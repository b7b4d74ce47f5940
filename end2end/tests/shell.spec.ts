import { expect, hasJavaScript, test } from './fixtures/portal';

test.describe('in English', () => {
  test.use({ locale: 'en-GB' });

  test('the shell renders with brand, navigation and footer', async ({ page, shell }) => {
    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(shell.heading()).toHaveText('Your documents in one place');
    for (const name of ['Overview', 'Documents', 'Invoices', 'Sign in']) {
      await expect(shell.nav().getByRole('link', { name, exact: true })).toBeVisible();
    }
    await expect(shell.nav().getByRole('link', { name: 'Overview' })).toHaveAttribute('aria-current', 'page');
    await expect(page.getByRole('contentinfo')).toContainText('Folio');
  });

  test('an unknown address shows the not-found page with status 404', async ({ page, shell }) => {
    const response = await page.goto('/no/such/page');
    expect(response?.status()).toBe(404);
    await expect(shell.heading()).toHaveText('Page not found');
    await page.getByRole('link', { name: 'Back to the overview' }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(shell.heading()).toHaveText('Your documents in one place');
  });

  test('the language switch turns the page German and the choice sticks', async ({ page, shell }, testInfo) => {
    await page.goto('/invoices');
    await expect(shell.heading()).toHaveText('Please sign in');
    if (hasJavaScript(testInfo)) await shell.hydrated();
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

    await shell.languageButton('Deutsch').click();

    await expect(shell.heading()).toHaveText('Bitte melden Sie sich an');
    await expect(page.locator('html')).toHaveAttribute('lang', 'de');
    await expect(page).toHaveURL(/\/invoices$/);
    await expect(shell.languageButton('Deutsch')).toHaveAttribute('aria-pressed', 'true');
    const marker = await page.evaluate(() => (window as unknown as { marker?: string }).marker);
    // With WebAssembly the language changes in place; without it the form posts and the page
    // reloads, which clears the marker.
    expect(marker).toBe(hasJavaScript(testInfo) ? 'same page' : undefined);

    await page.goto('/');
    await expect(shell.heading()).toHaveText('Ihre Dokumente an einem Ort');
  });

  test('at 320 px wide nothing scrolls sideways', async ({ page, shell }) => {
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto('/');
    await expect(shell.heading()).toBeVisible();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });
});

test.describe('in German', () => {
  test.use({ locale: 'de-DE' });

  test('the browser language chooses German', async ({ page, shell }) => {
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'de');
    await expect(shell.heading()).toHaveText('Ihre Dokumente an einem Ort');
    for (const name of ['Übersicht', 'Dokumente', 'Rechnungen', 'Anmelden']) {
      await expect(shell.nav().getByRole('link', { name, exact: true })).toBeVisible();
    }
  });
});

test.describe('with JavaScript', () => {
  test.use({ locale: 'en-GB' });

  test('the page hydrates without console errors and navigates in place', async ({ page, shell, consoleErrors }, testInfo) => {
    test.skip(!hasJavaScript(testInfo), 'needs the WebAssembly bundle');
    await page.goto('/');
    await shell.hydrated();
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

    await shell.nav().getByRole('link', { name: 'Documents' }).click();

    await expect(shell.heading()).toHaveText('Please sign in');
    await expect(page).toHaveURL(/\/documents$/);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    expect(consoleErrors).toEqual([]);
  });
});
