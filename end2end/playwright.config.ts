import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Paths are resolved from this folder: the command may run from anywhere, with any
// environment (the Makefile exports a LEPTOS_SITE_ROOT relative to the repository root).
const root = path.resolve(__dirname, '..');

// The server under test: `make test` builds it and Playwright starts it on a port of its own, so
// a `make run` on port 3000 does not get in the way.
const port = process.env.FOLIO_E2E_PORT ?? '3100';
const baseURL = process.env.FOLIO_E2E_URL ?? `http://127.0.0.1:${port}`;
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Every run starts on an empty database: what a failed run left behind (a link it did not get
// to revoke) must not change what the next one finds.
const database = path.join(root, 'target/e2e');
if (!process.env.FOLIO_E2E_URL && !process.env.TEST_WORKER_INDEX) {
  fs.rmSync(database, { recursive: true, force: true });
  fs.mkdirSync(database, { recursive: true });
}

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  // A page load, a form and an axe scan or two: generous, since CI has two busy cores.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      // This machine reaches no network beyond package registries: keep Chromium from trying.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'js', use: { browserName: 'chromium', javaScriptEnabled: true } },
    { name: 'no-js', use: { browserName: 'chromium', javaScriptEnabled: false } },
  ],
  webServer: process.env.FOLIO_E2E_URL
    ? undefined
    : {
        command: process.env.FOLIO_BIN ?? path.join(root, 'target/debug/folio'),
        // Ready means the built site is in place too: a wrong site root fails here, clearly.
        url: `${baseURL}/readyz`,
        reuseExistingServer: false,
        timeout: 120_000,
        stdout: 'pipe',
        stderr: 'pipe',
        env: {
          FOLIO_ADDR: `127.0.0.1:${port}`,
          FOLIO_PUBLIC_URL: baseURL,
          LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
          FOLIO_LOG: 'warn',
          DATABASE_URL: `sqlite://${path.join(database, 'folio.db')}`,
          // Both projects sign the same demo customers in and out many times.
          FOLIO_SIGNIN_LIMIT_PER_EMAIL: '50',
          FOLIO_SIGNIN_LIMIT_PER_IP: '500',
          // Small enough that one order's invoices make a background archive, and a budget
          // big enough that it finishes within a test.
          FOLIO_ARCHIVE_STREAM_FILES: '8',
          FLEXPORTAL_RATE_LIMIT_PER_MIN: '1200',
        },
      },
});
