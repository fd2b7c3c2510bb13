// Checks the commands and the config table in the markdown docs against the code: the command table of
// src/cli/commands.ts (the same flags yargs is given), package.json's scripts and the node:util parseArgs
// table of the script behind `npm run X`, and the config schema. Every problem is one line
// `FILE:LINE: what is wrong`. test/docs.test.ts runs it on the real docs and on known-bad snippets.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMANDS, type CommandSpec, type Flag } from '../../src/cli/commands.ts';
import { SCHEMA, leafPaths, nodeAt, type Node } from '../../src/config/schema.ts';
import { defaultConfig } from '../../src/config/defaults.ts';

// ---- markdown → snippets ---------------------------------------------------------------------------------

/** A piece of code in a markdown file: one logical line of a fenced block, or one inline code span. */
export interface Snippet {
  line: number; // 1-based line where it starts
  text: string;
}

/** Fenced blocks in these languages (or none) may hold commands; yaml, json, … are not scanned. */
const SHELL_LANGS = new Set(['', 'sh', 'bash', 'shell', 'console', 'zsh', 'text']);

/** Every fenced-block line (continuations `\` joined) and every inline code span, with its line. */
export function snippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  let fence: { marker: string; shell: boolean } | null = null;
  let pending: Snippet | null = null; // a fenced line continued with `\`
  let block: { line: number; text: string }[] = []; // the paragraph, list item or table row being read
  const flush = () => {
    out.push(...spans(block));
    block = [];
  };
  lines.forEach((raw, i) => {
    const n = i + 1;
    const open = /^\s{0,3}(`{3,}|~{3,})\s*([\w-]*)/.exec(raw);
    if (fence) {
      if (open && open[1].startsWith(fence.marker) && raw.trim() === open[1]) {
        fence = null;
        return;
      }
      if (!fence.shell) return;
      const text = pending ? `${pending.text} ${raw.trim()}` : raw;
      const start = pending ? pending.line : n;
      if (/\\\s*$/.test(text)) pending = { line: start, text: text.replace(/\\\s*$/, '') };
      else {
        pending = null;
        out.push({ line: start, text });
      }
      return;
    }
    if (open) {
      flush();
      fence = { marker: open[1], shell: SHELL_LANGS.has(open[2].toLowerCase()) };
      return;
    }
    // a code span never crosses a blank line, a table row, a list item or a heading
    if (raw.trim() === '' || /^\s*\|/.test(raw) || /^\s*([-*+]|\d+\.)\s/.test(raw) || /^#/.test(raw)) flush();
    if (raw.trim() !== '') block.push({ line: n, text: raw });
    if (/^\s*\|/.test(raw)) flush();
  });
  flush();
  return out;
}

/** Inline code spans of one block (CommonMark: a run of n backticks closes at the next run of exactly n). */
function spans(block: { line: number; text: string }[]): Snippet[] {
  const text = block.map((l) => l.text).join('\n');
  const lineAt = (offset: number) => block[text.slice(0, offset).split('\n').length - 1].line;
  const out: Snippet[] = [];
  const runs = [...text.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i++) {
    const close = runs.findIndex((r, j) => j > i && r[0].length === runs[i][0].length);
    if (close < 0) continue; // an unmatched run is literal backticks
    const from = runs[i].index! + runs[i][0].length;
    let code = text.slice(from, runs[close].index).replace(/\n/g, ' ');
    if (/^ .* $/.test(code) && code.trim()) code = code.slice(1, -1);
    out.push({ line: lineAt(runs[i].index!), text: code.replace(/\\\|/g, '|') }); // `\|` is a table's escaped pipe
    i = close;
  }
  return out;
}

// ---- snippet → simple shell commands ---------------------------------------------------------------------

/**
 * Shell-ish words, split into simple commands at `|`, `||`, `&&`, `;`, `&`, `(`, `)`. Quotes group words;
 * `<a learnt run>` stays in one word (a placeholder: `results/<a learnt run>`); `#` starts a comment; redirections are dropped. A `|` inside a
 * word is kept: `fetch|list` and `auto|on|off` are alternatives, not pipes.
 */
export function commands(text: string): string[][] {
  const cmds: string[][] = [[]];
  let word: string | null = null;
  let skipNext = false; // the target of a redirection
  const end = () => {
    if (word !== null) {
      if (skipNext) skipNext = false;
      else if (/^\d*(>>?|<)/.test(word) && !/^<.+>$/.test(word)) skipNext = /^\d*(>>?|<)$/.test(word); // `> f`, `2>/dev/null`, `2>&1`
      else cmds[cmds.length - 1].push(word);
    }
    word = null;
  };
  const split = () => {
    end();
    if (cmds[cmds.length - 1].length) cmds.push([]);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) end();
    else if (c === "'" || c === '"') {
      const j = text.indexOf(c, i + 1);
      const stop = j < 0 ? text.length : j;
      word = (word ?? '') + text.slice(i + 1, stop);
      i = stop;
    } else if (c === '\\' && i + 1 < text.length) word = (word ?? '') + text[++i];
    else if (c === '<' && /[^\s<]/.test(text[i + 1] ?? '') && text.indexOf('>', i) > 0) {
      const j = text.indexOf('>', i);
      word = (word ?? '') + text.slice(i, j + 1);
      i = j;
    } else if (c === '#' && word === null) break;
    else if (c === ';' || c === '(' || c === ')' || ((c === '|' || c === '&') && word === null)) {
      if ((c === '|' || c === '&') && text[i + 1] === c) i++;
      split();
    } else word = (word ?? '') + c;
  }
  end();
  return cmds.filter((c) => c.length);
}

export type Invocation = { kind: 'vds'; args: string[]; text: string } | { kind: 'npm'; script: string; args: string[]; beforeDashes: string[]; text: string };

/** `vds …`, `npx vds …`, `node bin/vds.mjs …` and `npm run X …` / `npm test` in one simple command. */
export function invocations(words: string[]): Invocation[] {
  const text = words.join(' ');
  // a bare `vds` counts only where a command starts (after a prompt such as `$` or `box-a$`, and VAR=value)
  let start = 0;
  if (/\$$/.test(words[0] ?? '')) start++;
  while (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[start] ?? '')) start++;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'vds' && i === start) return [{ kind: 'vds', args: words.slice(i + 1), text }];
    if (words[i] === 'npx' && words[i + 1] === 'vds') return [{ kind: 'vds', args: words.slice(i + 2), text }];
    if (words[i] === 'node' && /(^|\/)bin\/vds(\.mjs)?$/.test(words[i + 1] ?? '')) return [{ kind: 'vds', args: words.slice(i + 2), text }];
    if (words[i] === 'npm' && (words[i + 1] === 'run' || words[i + 1] === 'test') && (words[i + 1] === 'test' || words[i + 2])) {
      const rest = words[i + 1] === 'test' ? words.slice(i + 2) : words.slice(i + 3);
      const dashes = rest.indexOf('--');
      return [
        {
          kind: 'npm',
          script: words[i + 1] === 'test' ? 'test' : words[i + 2],
          beforeDashes: dashes < 0 ? rest : rest.slice(0, dashes),
          args: dashes < 0 ? [] : rest.slice(dashes + 1),
          text,
        },
      ];
    }
  }
  return [];
}

// ---- vds commands: the command table ---------------------------------------------------------------------

/** A word that stands for something (`RUN_DIR`, `<run-id>`, `[RESULTS_DIR]`, `…`, `$sweep`, `{}`), not a value. */
export function isPlaceholder(w: string): boolean {
  return /^<.*>$|^\[.*\]$|^[A-Z][A-Z0-9_]*$|…|^\.\.\.$|\$|^\{\}$/.test(w);
}

const GLOBAL_FLAGS: Record<string, Flag> = { help: { type: 'boolean' }, version: { type: 'boolean' } };
const GLOBAL_ALIASES: Record<string, string> = { h: 'help' };

/** `--name` / `-x` → the flag it names on command c (aliases, `--no-<boolean>` included), or undefined. */
function flagOf(c: CommandSpec | null, token: string): Flag | undefined {
  const name = token.replace(/=.*$/, '');
  const flags: Record<string, Flag> = { ...(c?.flags ?? {}), ...GLOBAL_FLAGS };
  if (name.startsWith('--')) {
    const long = name.slice(2);
    if (Object.hasOwn(flags, long)) return flags[long];
    const negated = long.replace(/^no-/, '');
    if (long.startsWith('no-') && flags[negated]?.type === 'boolean') return flags[negated];
    return undefined;
  }
  const short = name.slice(1);
  if (Object.hasOwn(GLOBAL_ALIASES, short)) return flags[GLOBAL_ALIASES[short]];
  return Object.values(flags).find((f) => ([] as string[]).concat(f.alias ?? []).includes(short));
}

const isFlag = (w: string) => /^--?[A-Za-z]/.test(w);
const words = (c: CommandSpec) => c.name.split(' ');
const TOP = [...new Set(COMMANDS.map((c) => words(c)[0]))];
const byName = (name: string) => COMMANDS.find((c) => c.name === name) ?? null;
const subsOf = (top: string) => COMMANDS.filter((c) => words(c).length === 2 && words(c)[0] === top);

/** How many positionals a command takes (yargs `<a>`, `[b]`; `<c..>` is any number). */
function maxPositionals(c: CommandSpec): number {
  const ps = c.yargs.split(' ').slice(1);
  return ps.some((p) => p.includes('..')) ? Infinity : ps.length;
}

/** Problems with the arguments of one `vds …` invocation: the command, then each flag and its value. */
export function checkVds(args: string[]): string[] {
  const problems: string[] = [];
  let candidates: (CommandSpec | null)[]; // the command(s) the flags must belong to; null: global flags only
  let at = 0; // first argument after the command words
  let open = false; // a placeholder stands for the rest: do not count positionals

  const first = args[0];
  if (first === undefined || isFlag(first)) candidates = [null];
  else if (isPlaceholder(first)) {
    candidates = [...COMMANDS];
    open = true;
    at = 1;
  } else {
    const tops = first.split('|');
    const bad = tops.filter((t) => !TOP.includes(t));
    if (bad.length) return [`unknown command ${bad.map((b) => `"${b}"`).join(', ')} (vds has ${TOP.join(', ')})`];
    candidates = [];
    at = 1;
    for (const top of tops) {
      const subs = subsOf(top);
      const next = args[1];
      if (!subs.length || tops.length > 1) {
        candidates.push(byName(top));
        continue;
      }
      if (next === undefined || isFlag(next)) {
        if (byName(top)) candidates.push(byName(top));
        else if (next !== undefined) problems.push(`vds ${top} needs a subcommand (${subs.map((s) => words(s)[1]).join(', ')}) before ${next}`);
        else candidates.push(...subs); // `vds data` named on its own
      } else if (isPlaceholder(next)) {
        candidates.push(...(byName(top) ? [byName(top)] : []), ...subs);
        open = true;
        at = 2;
      } else {
        const names = next.split('|');
        const unknown = names.filter((s) => !subs.some((c) => words(c)[1] === s));
        if (unknown.length) {
          return [`"${unknown.join('|')}" is not a subcommand of vds ${top} (it has ${subs.map((s) => words(s)[1]).join(', ')})`];
        }
        candidates.push(...names.map((s) => byName(`${top} ${s}`)));
        at = 2;
      }
    }
  }
  const named = candidates.filter((c): c is CommandSpec => c !== null);
  const label = named.length ? named.map((c) => `vds ${c.name}`).join(' / ') : 'vds';

  let positionals = 0;
  for (let i = at; i < args.length; i++) {
    const w = args[i];
    if (w === '--') break;
    if (w === '…' || w === '...') {
      open = true;
      continue;
    }
    if (isFlag(w)) {
      const f = candidates.map((c) => flagOf(c, w)).find((x) => x !== undefined);
      if (!f) {
        const accepted = [...new Set(named.flatMap((c) => Object.keys(c.flags)))].map((x) => `--${x}`);
        problems.push(`${label} has no flag ${w.replace(/=.*$/, '')}${accepted.length ? ` (it takes ${accepted.join(', ')})` : ''}`);
        if (!w.includes('=') && args[i + 1] !== undefined && !isFlag(args[i + 1])) i++; // its value, most likely
        continue;
      }
      if (f.type === 'boolean') continue;
      const value = w.includes('=') ? w.slice(w.indexOf('=') + 1) : args[++i]; // the next word is a value, even after --set
      if (value === undefined) continue; // a flag named in prose: `--jobs`
      if (f.choices && !isPlaceholder(value)) {
        const choices = f.choices as readonly unknown[];
        const bad = value.split('|').filter((v) => !choices.map(String).includes(v));
        if (bad.length) problems.push(`${w.replace(/=.*$/, '')} ${value}: ${bad.map((b) => `"${b}"`).join(', ')} is not one of ${choices.join(', ')}`);
      }
      if (w.replace(/=.*$/, '') === '--set') problems.push(...checkSet(value));
      continue;
    }
    positionals++;
    const single = candidates.length === 1 ? candidates[0] : null;
    if (!single || open) continue;
    const pos = Object.values(single.positionals ?? {})[Math.min(positionals, Object.keys(single.positionals ?? {}).length) - 1];
    if (positionals > maxPositionals(single)) {
      problems.push(`vds ${single.name} takes ${maxPositionals(single) || 'no'} positional argument${maxPositionals(single) === 1 ? '' : 's'}; "${w}" is one too many`);
    } else if (pos?.choices && !isPlaceholder(w)) {
      const bad = w.split('|').filter((v) => !(pos.choices as readonly unknown[]).map(String).includes(v));
      if (bad.length) problems.push(`vds ${single.name}: "${bad.join('|')}" is not one of ${(pos.choices as readonly unknown[]).join(', ')}`);
    }
  }
  return problems;
}

/** `--set key=value`: the key must be a config key (placeholders such as `key.path=value`, `k=v` are fine). */
function checkSet(value: string): string[] {
  const m = /^([A-Za-z][\w.]*)=/.exec(value);
  if (!m || isPlaceholder(value) || ['k', 'key', 'key.path'].includes(m[1])) return [];
  const node = nodeAt(m[1].split('.'));
  if (!node) return [`--set ${value}: "${m[1]}" is not a config key`];
  if (!node.leaf) return [`--set ${value}: "${m[1]}" is a section, not a key (its keys: ${Object.keys(node.fields).join(', ')})`];
  return [];
}

// ---- npm run X -------------------------------------------------------------------------------------------

export interface Scripts {
  scripts: Record<string, string>;
  root: string; // the repository, to read a script's source
}

/** The long options a node:util parseArgs table in `file` declares, with whether each takes a value. */
function parseArgsOptions(file: string): Map<string, { value: boolean; short?: string }> {
  const src = readFileSync(file, 'utf8');
  const at = src.search(/parseArgs\(\s*\{[\s\S]*?options\s*:\s*\{/);
  const opts = new Map<string, { value: boolean; short?: string }>();
  if (at < 0) return opts;
  const from = src.indexOf('{', src.indexOf('options', at));
  let depth = 0;
  let to = from;
  for (; to < src.length; to++) {
    if (src[to] === '{') depth++;
    if (src[to] === '}' && --depth === 0) break;
  }
  const body = src.slice(from + 1, to);
  for (const m of body.matchAll(/(?:^|[,{\s])(?:'([^']+)'|"([^"]+)"|([A-Za-z][\w]*))\s*:\s*\{([^}]*)\}/g)) {
    const type = /type\s*:\s*'(\w+)'/.exec(m[4])?.[1];
    const short = /short\s*:\s*'(\w)'/.exec(m[4])?.[1];
    if (type) opts.set(m[1] ?? m[2] ?? m[3], { value: type === 'string', short });
  }
  return opts;
}

/** Problems with `npm run X [-- args]`: X must exist, and args must be flags of the program X runs. */
export function checkNpm(inv: Extract<Invocation, { kind: 'npm' }>, s: Scripts): string[] {
  const script = s.scripts[inv.script];
  if (script === undefined) return [`package.json has no script "${inv.script}" (it has ${Object.keys(s.scripts).join(', ')})`];
  const problems: string[] = [];
  const npmFlags = inv.beforeDashes.filter(isFlag);
  if (npmFlags.length) problems.push(`${npmFlags.join(' ')} before "--" goes to npm, not to the script: write npm run ${inv.script} -- ${npmFlags.join(' ')}`);
  if (!inv.args.length) return problems;
  if (/(^|[\s/])bin\/vds(\.mjs)?(\s|$)/.test(script)) return [...problems, ...checkVds(inv.args)];
  const program = /\b(scripts\/[\w./-]+\.[mc]?[jt]s)\b/.exec(script)?.[1];
  if (!program) return problems; // tsc, node --test …: nothing to check the arguments against
  const opts = parseArgsOptions(path.join(s.root, program));
  if (!opts.size) return [...problems, `cannot read the flags of ${program} (no node:util parseArgs options table found)`];
  for (let i = 0; i < inv.args.length; i++) {
    const w = inv.args[i];
    if (!isFlag(w)) {
      if (!isPlaceholder(w) && w !== '…') problems.push(`${program} takes no positional arguments, got "${w}"`);
      continue;
    }
    const name = w.replace(/=.*$/, '');
    const opt = name.startsWith('--') ? opts.get(name.slice(2)) : [...opts.values()].find((o) => o.short === name.slice(1));
    if (!opt) {
      problems.push(`npm run ${inv.script} runs ${program}, which has no flag ${name} (it takes ${[...opts.keys()].map((k) => `--${k}`).join(', ')})`);
      if (!w.includes('=') && inv.args[i + 1] !== undefined && !isFlag(inv.args[i + 1])) i++; // its value, most likely
      continue;
    }
    if (opt.value && !w.includes('=')) i++;
  }
  return problems;
}

// ---- a whole document ------------------------------------------------------------------------------------

export interface Found {
  vds: number; // vds invocations checked
  npm: number; // npm run invocations checked
  problems: string[]; // `FILE:LINE: \`command\`: what is wrong`
}

/** Checks every vds and npm-run command of one markdown text; `file` only labels the messages. */
export function checkMarkdown(markdown: string, file: string, s: Scripts): Found {
  const found: Found = { vds: 0, npm: 0, problems: [] };
  for (const snip of snippets(markdown)) {
    for (const words of commands(snip.text)) {
      for (const inv of invocations(words)) {
        const problems = inv.kind === 'vds' ? checkVds(inv.args) : checkNpm(inv, s);
        found[inv.kind]++;
        const shown = inv.kind === 'vds' ? `vds ${inv.args.join(' ')}` : inv.text;
        found.problems.push(...problems.map((p) => `${file}:${snip.line}: \`${shown}\`: ${p}`));
      }
    }
  }
  return found;
}

// ---- the config table ------------------------------------------------------------------------------------

/** How a default from defaults.ts is written in the table: `null`, `[]`, `0.1`, `mnist`. */
function shown(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function valueAt(o: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

/**
 * The table under `heading` (first column: keys in code spans; second: their defaults) against the schema.
 *
 * Rule: every leaf of SCHEMA (which mirrors src/config/types.ts, and also knows the optional leaves that
 * defaultConfig() leaves out, such as data.paths.*) needs a row naming it, or naming a nested section that
 * holds it (`data.paths` or `data.paths.*` covers data.paths.train, …; a top-level section such as `train`
 * covers nothing, so each of its keys keeps its own row). Every key in the table must exist. For a row of
 * leaves, the defaults column holds one code span per key (or one for all of them) equal to defaultConfig()'s.
 */
export function checkConfigTable(markdown: string, file: string, heading = '## Configs'): { keys: number; problems: string[] } {
  const lines = markdown.split('\n');
  const h = lines.findIndex((l) => l.trim() === heading);
  if (h < 0) return { keys: 0, problems: [`${file}: no section "${heading}"`] };
  const startRel = lines.slice(h + 1).findIndex((l) => /^\|\s*key\s*\|/.test(l));
  const nextHeading = lines.slice(h + 1).findIndex((l) => /^#{1,2} /.test(l));
  if (startRel < 0 || (nextHeading >= 0 && startRel > nextHeading)) return { keys: 0, problems: [`${file}:${h + 1}: no "| key | default | meaning |" table under ${heading}`] };
  const start = h + 1 + startRel;
  const problems: string[] = [];
  const covered = new Set<string>();
  const seen = new Map<string, number>();
  const defaults = defaultConfig();
  let keys = 0;
  for (let i = start + 2; i < lines.length && /^\s*\|/.test(lines[i]); i++) {
    const n = i + 1;
    const cells = lines[i].split(/(?<!\\)\|/).slice(1, -1);
    const codes = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const rowKeys = codes(cells[0]);
    const rowDefaults = codes(cells[1]);
    if (!rowKeys.length) problems.push(`${file}:${n}: config table row names no key in \`code\``);
    const leaves: string[] = [];
    for (const raw of rowKeys) {
      keys++;
      const key = raw.replace(/\.\*$/, '');
      if (seen.has(key)) problems.push(`${file}:${n}: config key "${key}" is listed again (first at line ${seen.get(key)})`);
      seen.set(key, n);
      const node: Node | null = nodeAt(key.split('.'));
      if (!node) {
        problems.push(`${file}:${n}: config table lists "${raw}", which is not a config key (src/config/types.ts)`);
        continue;
      }
      if (node.leaf) {
        if (raw !== key) problems.push(`${file}:${n}: "${raw}": ${key} is a key, not a section`);
        covered.add(key);
        leaves.push(key);
      } else if (key.includes('.')) {
        for (const p of leafPaths(node, key.split('.'))) covered.add(p.join('.'));
      } else {
        problems.push(`${file}:${n}: config table lists the section "${raw}"; give its keys (${leafPaths(node, [key]).map((p) => p.join('.')).join(', ')}) rows of their own`);
      }
    }
    if (leaves.length !== rowKeys.length || !leaves.length) continue; // section rows: the meaning says what the default is
    if (rowDefaults.length !== leaves.length && rowDefaults.length !== 1) {
      problems.push(`${file}:${n}: ${leaves.length} keys but ${rowDefaults.length} defaults in \`code\` (one per key, or one for all)`);
      continue;
    }
    leaves.forEach((key, j) => {
      const expected = valueAt(defaults, key.split('.'));
      const written = rowDefaults.length === 1 ? rowDefaults[0] : rowDefaults[j];
      if (expected !== undefined && written !== shown(expected)) {
        problems.push(`${file}:${n}: the default of "${key}" is written \`${written}\`; src/config/defaults.ts has \`${shown(expected)}\``);
      }
    });
  }
  for (const p of leafPaths(SCHEMA)) {
    const key = p.join('.');
    const d = valueAt(defaults, p);
    if (!covered.has(key)) problems.push(`${file}:${start + 1}: config table lacks "${key}"${d === undefined ? '' : ` (default \`${shown(d)}\`)`}`);
  }
  return { keys, problems };
}
