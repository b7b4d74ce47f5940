import { expect, hasJavaScript, test } from './fixtures/portal';

test.use({ locale: 'en-GB' });

// Each project signs in its own demo customers, so the two can run side by side.
function customers(withJs: boolean) {
  return withJs
    ? { byCode: ['ben.okafor@example.com', 'Ben Okafor'], byLink: ['clara.jensen@example.org', 'Clara Jensen'] }
    : { byCode: ['mia.schneider@example.com', 'Mia Schneider'], byLink: ['lukas.schneider@example.org', 'Lukas Schneider'] };
}

test('sign in with the code from the mail, see your name, sign out', async ({ page, signIn, shell }, testInfo) => {
  const [email, name] = customers(hasJavaScript(testInfo)).byCode;
  await signIn.request(email);
  await expect(page.getByText(`If ${email} belongs to an account here`)).toBeVisible();
  const { code } = await signIn.mail(email);

  await signIn.enterCode(code);

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
  await expect(shell.heading()).toHaveText(`Welcome, ${name}`);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(shell.nav().getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText(`Signed in as ${name}`)).toHaveCount(0);
});

test('sign in with the link from the mail, in a fresh browser', async ({ page, signIn, browser }, testInfo) => {
  const [email, name] = customers(hasJavaScript(testInfo)).byLink;
  await signIn.request(email);
  const { link } = await signIn.mail(email);

  // The customer opens the mail on another device.
  const other = await browser.newContext({ locale: 'en-GB', javaScriptEnabled: hasJavaScript(testInfo) });
  const phone = await other.newPage();
  await phone.goto(link);
  await expect(phone.getByRole('heading', { level: 1 })).toHaveText('Continue signing in');
  await phone.getByRole('button', { name: 'Continue' }).click();
  await expect(phone.getByText(`Signed in as ${name}`)).toBeVisible();

  // The link works once.
  const third = await (await browser.newContext({ locale: 'en-GB' })).newPage();
  await third.goto(link);
  await third.getByRole('button', { name: 'Continue' }).click();
  await expect(third.getByRole('alert')).toContainText('expired or was already used');
  await other.close();
});

test('a wrong code is refused with a clear message', async ({ page, signIn }) => {
  await signIn.request('nobody@example.com');
  await signIn.enterCode('000000');
  await expect(page.getByRole('alert')).toHaveText('That code is not right. Please check the email and try again.');
});

test('the sign-in page lists the demo accounts', async ({ page }) => {
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Demo accounts' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign in as Dana Fischer' })).toBeVisible();
});

test('after signing out, Back shows no documents', async ({ page, signIn }, testInfo) => {
  const [email] = customers(hasJavaScript(testInfo)).byCode;
  await signIn.as(email);
  await page.goto('/documents');
  const rows = page.locator('table.documents tbody tr');
  await expect(rows.first()).toBeVisible();
  const documentName = (await rows.first().locator('td').first().innerText()).trim();

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByText('Signed in as')).toHaveCount(0);
  await page.goBack();
  // The page is fetched again, not shown from a cache, and there is nobody signed in.
  await expect(page).toHaveURL(/\/documents$/);
  await expect(page.getByText('Signed in as')).toHaveCount(0);
  await expect(rows).toHaveCount(0);
  await expect(page.getByText(documentName)).toHaveCount(0);
});
