// The docs against the code, so they cannot drift apart unnoticed. In README.md, docs/**/*.md and
// datasets/README.md, every command in a fenced block or an inline `code` span that runs vds (`vds …`,
// `npx vds …`, `node bin/vds.mjs …`) must name a real command (and subcommand: `sweep status`, `data fetch`),
// and each of its flags must be one that command takes, with a listed value where the flag has choices, and
// a real config key after --set. The flags come from the command table in src/cli/commands.ts, the one yargs
// is built from. `npm run X -- …` must name a script of package.json, and its flags must be those of the
// program it runs (the parseArgs table of scripts/bench.ts for `npm run bench`). README's config table must
// list exactly the config keys, with their defaults (rule: checkConfigTable in helpers/doc-check.ts).
// Every problem names the file and line. Placeholders (`RUN_DIR`, `<run-id>`, `…`) pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/cli.ts';
import { checkConfigTable, checkMarkdown, type Scripts } from './helpers/doc-check.ts';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const scripts: Scripts = { scripts: pkg.scripts, root: REPO };
const read = (rel: string) => readFileSync(path.join(REPO, rel), 'utf8');

const DOCS = [
  'README.md',
  'datasets/README.md',
  ...readdirSync(path.join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.posix.join('docs', f.split(path.sep).join('/')))
    .sort(),
];

for (const file of DOCS) {
  test(`${file}: every vds and npm run command exists, with flags it takes`, () => {
    const found = checkMarkdown(read(file), file, scripts);
    assert.deepEqual(found.problems, [], `\n${found.problems.join('\n')}\n`);
  });
}

test('the checks see the commands at all (a broken extractor would pass everything)', () => {
  const found = checkMarkdown(read('README.md'), 'README.md', scripts);
  assert.ok(found.vds >= 40, `only ${found.vds} vds commands found in README.md`);
  assert.ok(found.npm >= 4, `only ${found.npm} npm commands found in README.md`);
});

test('README.md: the config table lists exactly the config keys, with their defaults', () => {
  const { keys, problems } = checkConfigTable(read('README.md'), 'README.md');
  assert.deepEqual(problems, [], `\n${problems.join('\n')}\n`);
  assert.ok(keys >= 20, `only ${keys} keys read from the config table`);
});

// ---- the checker itself: bad docs fail, with the file, the line and what is wrong ---------------------------

const problemsOf = (md: string) => checkMarkdown(md, 'X.md', scripts).problems;

test('checker: wrong commands and flags are caught, each naming file, line and what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['```sh\nnpx vds train --epochs 3\n```', /^X\.md:2: `vds train --epochs 3`: vds train has no flag --epochs/],
    ['text\n\nrun `vds prune RUN_DIR --treshold 0.9` now', /^X\.md:3: .*vds prune has no flag --treshold/],
    ['```sh\nnode bin/vds.mjs trian --config c.yaml\n```', /^X\.md:2: .*unknown command "trian"/],
    ['```sh\nnpx vds sweep stats results/x\n```', /"stats" is not a subcommand of vds sweep/],
    ['```sh\nnpx vds sweep status results/x --jobs 2\n```', /vds sweep status has no flag --jobs/],
    ['```sh\nnpx vds data get mnist\n```', /"get" is not a subcommand of vds data/],
    ['```sh\nnpx vds data fetch cifar\n```', /"cifar" is not one of mnist/],
    ['```sh\nnpx vds train -c a.yaml --backend tpu\n```', /--backend tpu: "tpu" is not one of/],
    ['```sh\nnpx vds train -c a.yaml --set train.epoch=3\n```', /"train.epoch" is not a config key/],
    ['```sh\nnpx vds sweep configs/paper/mnist.yaml\n```', /"configs\/paper\/mnist.yaml" is not a subcommand of vds sweep/],
    ['```sh\nnpx vds bench --depths 10\n```', /vds bench has no flag --depths/],
    ['one\ntwo `npx vds eval\nRUN_DIR --odd mnist` three', /^X\.md:2: .*vds eval has no flag --odd/],
    ['| a | `vds worker --concurency 2` |', /^X\.md:1: .*vds worker has no flag --concurency/],
    ['```sh\nbox-a$ vds doctor --verbose\n```', /vds doctor has no flag --verbose/],
    ['```sh\nls -d r/* | xargs -I{} npx vds prune {} --rule maybe\n```', /--rule maybe: "maybe" is not one of threshold, expected/],
    ['```sh\nnpm run bnch\n```', /^X\.md:2: `npm run bnch`: package.json has no script "bnch"/],
    ['`npm run bench -- --depth 10`', /runs scripts\/bench\.ts, which has no flag --depth \(it takes .*--depths/],
    ['`npm run bench --json`', /--json before "--" goes to npm/],
    ['`npm run vds -- train --epochs 2`', /vds train has no flag --epochs/],
  ];
  for (const [md, expected] of cases) {
    const problems = problemsOf(md);
    assert.equal(problems.length, 1, `${JSON.stringify(md)} → ${JSON.stringify(problems)}`);
    assert.match(problems[0], expected);
  }
});

test('checker: right commands, placeholders, values after --set and prose pass', () => {
  const good = [
    '```sh\nnpx vds train --config configs/mnist.yaml --set model.maxDepth=20 --set seed=3 -v\n```',
    '```sh\nnpx vds sweep --config c.yaml --launcher slurm --backend tensorflow-gpu \\\n  --partition gpu --setup \'module load cuda/11.2\' --sbatch=--account=p\n```',
    '`vds sweep … --redis URL` and `vds data fetch|list` and `vds report [RESULTS_DIR]` and `npx vds <command> --help`',
    '`vds prune RUN_DIR --rule expected` `vds bench --recompute auto|on|off|both --depth 10 --depth 50`',
    '`npx vds --help` `vds train --resume results/q/<run-id>` `vds train --set key.path=value`',
    '```\n  env.json     vds and tfjs versions\n```',
    '```yaml\nrun: vds train --frob\n```',
    '`npm run bench -- --backend wasm --depths 10,50 --json` `npm test` `npm install`',
    '```sh\nVDS_THREADS=1 npx vds train --config c.yaml --run-id r --results-dir /tmp/regen > log.txt 2>&1\n```',
  ];
  for (const md of good) assert.deepEqual(problemsOf(md), [], md);
});

test('checker: the config table must name every key, only real keys, and the right defaults', () => {
  const table = (rows: string[]) => `# t\n\n## Configs\n\n| key | default | meaning |\n|---|---|---|\n${rows.join('\n')}\n\n## Next\n`;
  const { problems } = checkConfigTable(
    table(['| `seed` | `0` | s |', '| `train.lr`, `train.momentum` | `0.1`, `0.9` | sgd |', '| `train.learningRate` | `1` | x |', '| `data.spirals.*` | | toy |']),
    'R.md',
  );
  assert.ok(problems.includes('R.md:8: the default of "train.momentum" is written `0.9`; src/config/defaults.ts has `0.5`'), problems.join('\n'));
  assert.ok(problems.includes('R.md:9: config table lists "train.learningRate", which is not a config key (src/config/types.ts)'), problems.join('\n'));
  assert.ok(problems.some((p) => p === 'R.md:5: config table lacks "resultsDir" (default `results`)'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('R.md:5: config table lacks "data.paths.train"')), problems.join('\n'));
  assert.ok(!problems.some((p) => p.includes('data.spirals.noise')), 'data.spirals.* covers data.spirals.noise');
  assert.ok(!problems.some((p) => /"(seed|train\.lr)"/.test(p)), problems.join('\n'));
});
