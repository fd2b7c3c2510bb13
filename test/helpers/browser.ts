// A real browser for the board's tests: Debian's chromium driven by playwright-core (which downloads no browser
// of its own). Without it the tests are skipped on a developer's machine, and fail where it is required (CI set,
// or VDS_TEST_REQUIRE_BROWSER=1); .ci/run installs it (scripts/ci/webgpu-up.sh, for SwiftShader too).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.ts';

export const CHROMIUM = process.env.VDS_TEST_CHROMIUM ?? '/usr/bin/chromium';
const required = Boolean(process.env.CI) || process.env.VDS_TEST_REQUIRE_BROWSER === '1';
export const skipWithoutBrowser = existsSync(CHROMIUM) || required ? false : `needs Chromium at ${CHROMIUM} (Debian's chromium; or set VDS_TEST_CHROMIUM)`;

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Where screenshots go: $VDS_TEST_ARTIFACTS, else test-artifacts/ in the repository (git-ignored). */
export function artifactDir(what: string): string {
  const dir = path.join(process.env.VDS_TEST_ARTIFACTS ?? path.join(REPO, 'test-artifacts'), what);
  mkdirSync(dir, { recursive: true });
  return dir;
}
