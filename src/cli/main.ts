// `vds`: argv → the command table → one command function. This file owns argument parsing and the only
// process.exit; a VdsError becomes `error: …` and its exit code, anything else is a bug and keeps its stack.
import yargs, { type Argv } from 'yargs';
import { VdsError } from '../util/errors.ts';
import { VDS_VERSION } from '../util/version.ts';
import { leafPaths } from '../config/schema.ts';
import { COMMANDS, loadCommand, synopsis, yargsOption, type CommandSpec, type ParsedCommand } from './commands.ts';

export type { ParsedCommand } from './commands.ts';

type Run = (c: CommandSpec, options: object) => Promise<void>;

/** The command named on the command line, if any (longest match: `data fetch` before `data`). */
function commandOf(argv: string[]): CommandSpec | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return COMMANDS.filter((c) => c.name.split(' ').every((w, i) => words[i] === w)).sort((a, b) => b.name.length - a.name.length)[0];
}

/** `vds data fetch --help` for an error in `vds data fetch …`; `vds --help` when no command was recognised. */
function helpFor(argv: string[]): string {
  const c = commandOf(argv);
  return c ? `vds ${c.name} --help` : argv.find((a) => !a.startsWith('-')) === 'data' ? 'vds data --help' : 'vds --help';
}

/** For a flag that names a config key (`--epochs 2`, `--max-depth=5`): " (a config key: --set train.epochs=2)". */
function asConfigKey(flag: string, argv: string[]): string {
  const name = flag.replace(/^--?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()).toLowerCase();
  const keys = leafPaths().map((p) => p.join('.')).filter((k) => k.toLowerCase() === name || k.split('.').pop()!.toLowerCase() === name);
  if (keys.length !== 1) return '';
  const at = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  const inline = argv[at]?.includes('=') ? argv[at].slice(argv[at].indexOf('=') + 1) : undefined;
  const next = argv[at + 1];
  const value = inline ?? (next !== undefined && !next.startsWith('--') ? next : 'VALUE');
  return ` (a config key: --set ${keys[0]}=${value})`;
}

/** yargs' messages, in our words: flags as typed (`--frob`), stray words quoted, allowed values listed. */
function reword(msg: string, argv: string[]): string {
  let m: RegExpExecArray | null;
  if ((m = /^Did you mean (.*)\?$/.exec(msg))) {
    return `unknown command "${argv.find((a) => !a.startsWith('-'))}" (did you mean "${m[1]}"?)`;
  }
  if ((m = /^Unknown (?:arguments?|command): (.*)$/.exec(msg))) {
    const names = m[1].split(', ');
    const find = (n: string) => argv.find((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`)?.split('=')[0];
    // yargs lists `--learning-rate` twice, also as learningRate
    const typed = (n: string) => find(n) ?? find(n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    const flags = [...new Set(names.map(typed).filter((f): f is string => f !== undefined))];
    const words = names.filter((n) => typed(n) === undefined);
    const parts = [];
    if (flags.length) parts.push(`unknown flag${flags.length > 1 ? 's' : ''} ${flags.map((f) => f + asConfigKey(f, argv)).join(', ')}`);
    if (words.length) parts.push(`unexpected argument${words.length > 1 ? 's' : ''} ${words.map((w) => `"${w}"`).join(', ')}`);
    return parts.join('; ');
  }
  if (/^Not enough non-option arguments/.test(msg)) return `missing ${commandOf(argv)?.synopsis.split(' ')[0] || 'argument'}`;
  if ((m = /^Not enough arguments following: (.*)$/.exec(msg))) return `--${m[1]} needs a value`;
  if ((m = /^Missing required arguments?: (.*)$/.exec(msg))) return `missing ${m[1].split(', ').map((f) => `--${f}`).join(', ')}`;
  if ((m = /^Arguments (\S+) and (\S+) are mutually exclusive$/.exec(msg))) return `--${m[1]} and --${m[2]} cannot be given together`;
  if (msg.startsWith('Invalid values:')) {
    const lines = [...msg.matchAll(/Argument: (\S+), Given: (.*), Choices: (.*)/g)].map(([, arg, given, choices]) => {
      const name = commandOf(argv)?.flags[arg] ? `--${arg}` : arg;
      return `${name}: unknown value ${given}; expected one of ${choices.replace(/"/g, '')}`;
    });
    if (lines.length) return lines.join('; ');
  }
  return msg;
}

/** Defines a command, and under it its subcommands (`sweep` has `sweep status`, ...). */
function define(y: Argv, c: CommandSpec, run: Run, usageError: (m: string) => VdsError, subs: CommandSpec[] = []): Argv {
  const word = c.yargs;
  return y.command(
    word,
    (c.hidden ? false : c.describe) as string, // false: yargs lists it nowhere
    (sub) => {
      sub.usage(`Usage: ${synopsis(c)}\n\n${c.describe}`);
      for (const [k, o] of Object.entries(c.positionals ?? {})) sub.positional(k, o);
      // a parent's flags are its own: `vds sweep status` must not demand `vds sweep`'s --config
      for (const [k, f] of Object.entries(c.flags)) sub.option(k, { ...yargsOption(f), ...(subs.length ? { global: false } : {}) });
      for (const s of subs) define(sub, s, run, usageError);
      if (c.check) {
        sub.check((a) => {
          const m = c.check!(a as Record<string, unknown>);
          if (m) throw usageError(m);
          return true;
        }, subs.length === 0);
      }
      return sub;
    },
    (a) => run(c, c.options(a as Record<string, unknown>)),
  );
}

/** The whole command line interface; `run` receives the command and its options (tests capture them). */
export function buildCli(argv: string[], run: Run): Argv {
  const usageError = (m: string) => new VdsError(reword(m, argv), { hint: `see \`${helpFor(argv)}\`` });
  const spec = (name: string) => COMMANDS.find((c) => c.name === name)!;
  let y = yargs(argv)
    .scriptName('vds')
    .usage('Usage: vds <command> [flags]\n\nVariational Depth Search in ResNets: learn a posterior over depth in one training run, prune, compare, report.')
    .parserConfiguration({ 'dot-notation': false })
    .strict()
    .recommendCommands()
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((msg, err) => {
      throw err && !(err.name === 'YError') ? err : usageError(msg ?? err?.message ?? 'invalid arguments');
    });
  const subcommandsOf = (name: string) => COMMANDS.filter((c) => c.name.startsWith(`${name} `));
  for (const c of COMMANDS) if (!c.name.includes(' ')) y = define(y, c, run, usageError, subcommandsOf(c.name));
  y = y.command('data', 'fetch and list datasets', (sub) => {
    define(sub, spec('data fetch'), run, usageError);
    define(sub, spec('data list'), run, usageError);
    return sub.usage('Usage: vds data <fetch|list> [flags]').demandCommand(1, 'vds data needs a subcommand: fetch or list');
  });
  return y
    .demandCommand(1, 'no command given')
    .epilogue(
      `Every command and its flags (details: vds <command> --help):\n${COMMANDS.filter((c) => !c.hidden).map((c) => `  ${synopsis(c)}`).join('\n')}\n\n` +
        'Exit codes: 0 done, 1 failed (a run, a sweep, a check), 2 bad input, 3 network, 75 busy (try later), 130 interrupted (resumable); README.md, "Exit codes".',
    )
    .version(VDS_VERSION)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(120, y.terminalWidth()));
}

/** What a command would receive, without running it; null for --help and --version. */
export async function parseArgs(argv: string[]): Promise<ParsedCommand | null> {
  let got = null as ParsedCommand | null;
  await buildCli(argv, async (c, options) => {
    got = { command: c.name, options } as ParsedCommand;
  }).parseAsync();
  return got;
}

async function execute(c: CommandSpec, options: object): Promise<void> {
  const fn = await loadCommand(c);
  await fn(options);
}

function exitCodeFor(e: unknown): number {
  if (e instanceof VdsError) {
    // a requested stop (Ctrl-C, SIGTERM) is not an error: it says what was kept and how to go on
    process.stderr.write(`${e.exitCode === 130 ? 'interrupted' : 'error'}: ${e.format()}\n`);
    return e.exitCode;
  }
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}

/** Wait until everything written to stdout and stderr has left the process. */
const drain = (s: NodeJS.WriteStream) => new Promise<void>((r) => s.write('', () => r()));

export async function main(argv: string[]): Promise<void> {
  // a reader that went away (`| head`, or a Ctrl-C at the terminal that stopped `| tail -1` too) is not a
  // failure of vds: what it still writes there is dropped, and the exit code stays the command's own
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'EBADF') throw e; // EBADF: a stdout vds train handed back
    });
  }
  let code = 0;
  try {
    await buildCli(argv, execute).parseAsync();
  } catch (e) {
    code = exitCodeFor(e);
  }
  await Promise.all([drain(process.stdout), drain(process.stderr)]);
  process.exit(code); // the one exit: commands return or throw, and leave no reason to linger
}
