// The run lock: one process per run directory, on this machine (pid) and across machines sharing the
// results directory (host + heartbeat). Real lock files and real processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireRunLock, alive, HEARTBEAT_MS, lockHolder, readLockOwner, STALE_MS } from '../src/runs/lock.ts';
import { REPO, VDS_BIN } from './helpers/cli.ts';
import { EXIT_BUSY, VdsError } from '../src/util/errors.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { ConvResNet } from '../src/model/index.ts';
import { statisticsOfBatches } from '../src/train/calibrate.ts';
import { onPulse } from '../src/util/pulse.ts';
import { Rng } from '../src/util/rng.ts';

const lockFile = (dir: string) => path.join(dir, 'run.lock');

/** A lock file as another owner would have left it, last touched `ageMs` ago. */
function plant(dir: string, text: string, ageMs = 0): void {
  writeFileSync(lockFile(dir), text);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(lockFile(dir), t, t);
}

function busy(dir: string, message: RegExp): void {
  assert.throws(
    () => acquireRunLock(dir),
    (e: unknown) => e instanceof VdsError && e.exitCode === EXIT_BUSY && message.test(e.message),
  );
}

/** A live process of this machine that is not this one (its pid holds a lock in the tests below). */
async function withLiveProcess(fn: (pid: number) => void | Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    await fn(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('the run lock', () => {
  it('records pid and host, and is free again once released', () => {
    const dir = tempDir('lock');
    const lock = acquireRunLock(dir);
    assert.equal(readFileSync(lockFile(dir), 'utf8'), `${process.pid} ${os.hostname()}\n`);
    assert.deepEqual({ ...readLockOwner(dir)!, touchedMs: 0 }, { pid: process.pid, host: os.hostname(), touchedMs: 0 });
    lock.release();
    assert.equal(lockHolder(dir), null);
    acquireRunLock(dir).release();
  });

  it('on this machine: refuses a live owner, takes over a dead one, reads a lock that holds only a pid', async () => {
    const dir = tempDir('lock');
    await withLiveProcess((pid) => {
      plant(dir, `${pid} ${os.hostname()}\n`, 60 * 60_000); // an old lock of a live process still holds
      busy(dir, new RegExp(`in use by process ${pid}$`));
      assert.equal(lockHolder(dir)?.pid, pid);
      plant(dir, `${pid}`); // written before hosts were recorded: this machine's
      busy(dir, new RegExp(`in use by process ${pid}$`));
    });
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    plant(dir, `${dead.pid} ${os.hostname()}\n`);
    assert.equal(lockHolder(dir), null, 'a dead owner holds nothing');
    const lock = acquireRunLock(dir);
    assert.equal(readLockOwner(dir)?.pid, process.pid);
    lock.release();
  });

  it('from another machine: held while its heartbeat is recent, taken over once stale', () => {
    const dir = tempDir('lock');
    const other = `${os.hostname()}-elsewhere`;
    // a pid that is alive here says nothing about the other machine, and a dead one neither
    plant(dir, `${process.pid} ${other}\n`, STALE_MS - 60_000);
    busy(dir, new RegExp(`in use by process ${process.pid} on ${other} \\(its lock was refreshed \\d+ s ago; one not refreshed for 10 min is taken over\\)`));
    assert.equal(lockHolder(dir)?.host, other);
    plant(dir, `999999 ${other}\n`, STALE_MS + 60_000);
    assert.equal(lockHolder(dir), null);
    const lock = acquireRunLock(dir);
    assert.equal(readLockOwner(dir)?.host, os.hostname());
    lock.release();
  });

  it('the heartbeat refreshes the lock file, at most once per interval', () => {
    const dir = tempDir('lock');
    const lock = acquireRunLock(dir);
    const old = (Date.now() - 5 * 60_000) / 1000;
    utimesSync(lockFile(dir), old, old);
    lock.heartbeat(); // just taken: throttled
    assert.equal(Math.round(statSync(lockFile(dir)).mtimeMs / 1000), Math.round(old));
    const realNow = Date.now;
    const later = realNow() + HEARTBEAT_MS + 1000;
    Date.now = () => later;
    try {
      lock.heartbeat();
    } finally {
      Date.now = realNow;
    }
    assert.ok(Math.abs(statSync(lockFile(dir)).mtimeMs - later) < 1000, 'touched at the heartbeat');
    lock.release();
  });

  it('a synchronous pass over batches (calibration here) pulses once per batch, which drives the heartbeat', async () => {
    await selectBackend('cpu');
    const net = new ConvResNet({ inputChannels: 1, classes: 3, maxDepth: 1, outerWidth: 4, innerWidth: 2 }, Rng.derive(0, 'init'));
    let beats = 0;
    const stop = onPulse(() => beats++);
    try {
      await statisticsOfBatches(net, 'all', 1, 3, () => tf.randomNormal([4, 28, 28, 1]));
    } finally {
      stop();
      net.store.dispose();
    }
    assert.equal(beats, 3);
  });
});

describe('the child of a sweep that died while the child was starting', () => {
  it('backs out before writing anything, leaving the run for the restarted sweep', async () => {
    const root = tempDir('orphan');
    const runDir = path.join(root, 'spirals', 'orphan');
    // a stand-in for a sweep: starts `vds train` as its child, with the variable a sweep sets, and dies at once
    const parentScript = [
      "const { spawn } = require('node:child_process');",
      `const c = spawn(process.execPath, ${JSON.stringify([VDS_BIN, 'train', '--config', path.join(REPO, 'configs/spirals.yaml'), '--set', 'backend=wasm', '--results-dir', root, '--run-id', 'orphan'])},`,
      "  { env: { ...process.env, VDS_SWEEP_PARENT: String(process.pid) }, stdio: 'ignore', detached: true });",
      'console.log(c.pid); c.unref(); process.exit(0);',
    ].join('\n');
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.on('data', (d) => (out += d));
    await new Promise((r) => parent.on('close', r));
    const child = Number(out.trim());
    assert.ok(Number.isInteger(child) && child > 0, `the stand-in printed its child's pid: ${out}`);
    for (let i = 0; i < 600 && alive(child); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive(child), 'the orphaned child exited');
    assert.ok(!existsSync(runDir), `${runDir} was left unmade`);
  });
});
