// `npm test` reports each test file as it ends (issue 29: the suite ran for 12–25 minutes saying nothing of
// its progress). The reporter runs here on real `node --test` runs of two small files, one failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';

const REPORTER = path.join(REPO, 'test/helpers/progress-reporter.mjs');

test('one line per test file as it ends, then the total and the slowest; durations kept in a file', () => {
  const dir = tempDir('progress');
  writeFileSync(path.join(dir, 'a.test.mjs'), "import { test } from 'node:test';\ntest('waits', async () => { await new Promise((r) => setTimeout(r, 300)); });\n");
  writeFileSync(path.join(dir, 'b.test.mjs'), "import { test } from 'node:test';\ntest('fails', () => { throw new Error('no'); });\ntest('skipped', { skip: 'why' }, () => {});\n");
  // a test runner of its own, not a child of this one (NODE_TEST_CONTEXT would make it skip the files)
  const env: NodeJS.ProcessEnv = { ...process.env, VDS_TEST_ARTIFACTS: path.join(dir, 'artifacts') };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stderr', 'a.test.mjs', 'b.test.mjs'], { cwd: dir, encoding: 'utf8', env });
  assert.equal(r.status, 1, r.stderr); // a failing file still fails the run
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /^\[1\/2\] ok {5}a\.test\.mjs \d+\.\d s \(0:0\d so far\)$/);
  assert.match(lines[1], /^\[2\/2\] FAILED b\.test\.mjs \d+\.\d s, 1 skipped \(0:0\d so far\)$/);
  assert.match(lines[2], /^2 test files in 0:0\d \(m:ss\); slowest: a\.test\.mjs 0:0\d, b\.test\.mjs 0:0\d$/);
  const rec = JSON.parse(readFileSync(path.join(dir, 'artifacts', 'test-durations.json'), 'utf8'));
  assert.deepEqual(rec.files.map((f: { file: string; ok: boolean }) => [f.file, f.ok]), [['a.test.mjs', true], ['b.test.mjs', false]]);
  assert.ok(rec.files[0].seconds >= 0.3, `a waited 0.3 s: ${rec.files[0].seconds}`);
});

test('npm test runs it beside the spec reporter', () => {
  const script = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts.test as string;
  assert.match(script, /--test-reporter=spec --test-reporter-destination=stdout --test-reporter=\.\/test\/helpers\/progress-reporter\.mjs --test-reporter-destination=stderr test\/\*\.test\.ts$/);
});
