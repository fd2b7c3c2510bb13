// End to end through bin/vds.mjs, as a user runs it: exit codes, stdout and stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadConfig } from '../src/config/index.ts';
import { COMMANDS } from '../src/cli/commands.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const vds = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/vds.mjs'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dir = mkdtempSync(path.join(os.tmpdir(), 'vds-cli-'));

test('vds --help lists every command with its flags', () => {
  const r = vds('--help');
  assert.equal(r.code, 0, r.stderr);
  for (const c of COMMANDS) {
    const lines = r.stdout.split('\n').map((l) => l.trim());
    if (c.hidden) {
      assert.ok(!lines.some((l) => l.startsWith(`vds ${c.name}`)), `internal ${c.name} is not listed`);
      continue;
    }
    const hasFlags = Object.keys(c.flags).length > 0;
    const line = lines.find((l) => (l === `vds ${c.name}` || l.startsWith(`vds ${c.name} `)) && (!hasFlags || l.includes('--')));
    assert.ok(line, `no synopsis line for ${c.name}`);
    for (const flag of Object.keys(c.flags)) assert.ok(line.includes(`--${flag}`), `${c.name}: --${flag} missing from "${line}"`);
  }
  assert.match(r.stdout, /vds train --config FILE|vds train \[--config FILE\]/);
});

test('vds train --help shows the flags with descriptions', () => {
  const r = vds('train', '--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--print-config\s+print the resolved config/);
  assert.match(r.stdout, /--progress .*choices: "auto", "bar", "plain", "none"/);
});

test('vds --version prints the package version', () => {
  const r = vds('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
});

test('an unknown flag: exit 2, the flag named, no stack', () => {
  const r = vds('train', '--config', 'configs/quickstart.yaml', '--learning-rate', '0.1');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: unknown flag --learning-rate\n  hint: see `vds train --help`\n');
  assert.equal(r.stdout, '');
});

test('a bad config file: exit 2 with file:line and the dotted key', () => {
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, '# a typo and a bad value\ntrain:\n  lr: -0.1\nmodel:\n  maxDepht: 5\n');
  const r = vds('train', '--config', file);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^error: ${file}:3: train\\.lr: expected a number > 0, got -0\\.1\\n`));
  assert.match(r.stderr, new RegExp(`  ${file}:5: model\\.maxDepht: unknown key \\(did you mean "model\\.maxDepth"\\?\\)`));
  assert.doesNotMatch(r.stderr, /\s+at /, 'no stack trace for a user error');
});

test('a YAML syntax error: exit 2 with the line', () => {
  const file = path.join(dir, 'syntax.yaml');
  writeFileSync(file, 'train:\n  lr: 0.1\n   momentum: 0.5\n');
  const r = vds('train', '--config', file);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^error: ${file}:\\d: YAML syntax error`));
});

test('a missing config file: exit 2', () => {
  const r = vds('train', '--config', 'configs/nope.yaml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: configs\/nope\.yaml: config file not found\n  hint: /);
});

test('vds train --print-config prints the resolved config with overrides applied', () => {
  const r = vds('train', '--config', 'configs/quickstart.yaml', '--set', 'train.epochs=2', '--backend', 'cpu', '--print-config');
  assert.equal(r.code, 0, r.stderr);
  const printed = YAML.parse(r.stdout);
  const expected = loadConfig({ file: path.join(root, 'configs/quickstart.yaml'), sets: ['train.epochs=2'], overrides: { backend: 'cpu' } }).config;
  assert.deepEqual(printed, expected);
});
