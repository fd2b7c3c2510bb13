// Probing for a WebGPU adapter in a child process. Dawn and the Vulkan drivers it loads write to file
// descriptor 2 from native code ("error: XDG_RUNTIME_DIR is invalid…", "Warning: Vulkan
// shaderUniform*ArrayDynamicIndexing required. … at InitializeImpl (…/PhysicalDeviceVk.cpp:257)") while they
// look for a device, which JS cannot intercept and Node cannot redirect (no dup2). A child whose stderr is a
// pipe can: the child asks Dawn for the adapter, prints what it found as JSON, and vds turns whatever the
// drivers said into one line of its own (shown with --verbose and by `vds doctor`). Only when the child finds
// an adapter vds will use does this process load Dawn itself.
import { spawn } from 'node:child_process';

/** What the child reports: Dawn's adapter list, and the adapter it would hand out (null: none). */
export interface ProbeResult {
  available: string[]; // 'backend: name' for every adapter Dawn lists
  adapter: {
    info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
    isFallbackAdapter?: boolean;
    limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  } | null;
  error?: string; // requestAdapter rejected: its first line
  driverSaid: string; // the drivers' stderr in one line, '' when silent
}

// The child: plain ESM run by `node -e`, so it starts without TypeScript (argv: Dawn's module URL, the
// VDS_WEBGPU_ADAPTER choice). The adapter list comes from a name filter that matches nothing (Dawn then
// rejects with the list); a numeric choice is an index into that list, anything else a name substring.
const CHILD = `
const [url, choice] = process.argv.slice(1);
const mod = await import(url);
const keep = [];
const lister = mod.create(['adapter=\\u0001vds-lists-adapters']);
keep.push(lister);
let available = [];
try { await lister.requestAdapter(); } catch (e) {
  available = String(e && e.message || e).split('\\n').flatMap((l) => {
    const m = /\\* backend: '([^']*)', name: '(.*)'$/.exec(l.trim());
    return m ? [m[1] + ': ' + m[2]] : [];
  });
}
const c = (choice || '').trim();
const flags = c === '' ? [] : /^\\d+$/.test(c) ? (available[+c] ? ['adapter=' + available[+c].replace(/^[^:]*: /, '')] : ['adapter=\\u0001none']) : ['adapter=' + c];
const gpu = mod.create(flags);
keep.push(gpu);
const out = { available, adapter: null };
try {
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (a) {
    const i = a.info;
    out.adapter = {
      info: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter },
      isFallbackAdapter: a.isFallbackAdapter,
      limits: { maxBufferSize: a.limits.maxBufferSize, maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize },
    };
  }
} catch (e) { out.error = String(e && e.message || e).split('\\n')[0].slice(0, 200); }
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

/** A probe that does not answer in this time is taken as "no adapter" (a hung driver must not hang vds). */
const PROBE_TIMEOUT_MS = 30_000;

/** Runs the probe in a child process; throws (with the reason) when the child cannot report. */
export async function probeInChild(dawnUrl: string, choice: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ProbeResult> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dawnUrl, choice ?? ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
  const code = await new Promise<number | string>((resolve) => {
    child.on('close', (c, sig) => resolve(sig ?? c ?? 0));
    child.on('error', (e) => resolve(e.message));
  });
  clearTimeout(timer);
  const driverSaid = summariseDriverOutput(err);
  let found: Omit<ProbeResult, 'driverSaid'> | null = null;
  try {
    found = JSON.parse(out);
  } catch {
    /* no answer: why is below */
  }
  // a driver that crashes the child on its way out after the answer was written does not void the answer
  if (found) return { ...found, driverSaid };
  const why = code === 'SIGKILL' ? `no answer in ${PROBE_TIMEOUT_MS / 1000} s` : `exit ${code}`;
  throw new Error(`the WebGPU probe (a child process) failed: ${why}${driverSaid ? `; the driver said: ${driverSaid}` : ''}`);
}

/** Driver messages seen in the wild, in vds's words (the rest are passed on as the driver wrote them). */
const KNOWN: [RegExp, string][] = [
  // Mesa's window-system code, loaded with every Mesa Vulkan driver; compute does not need it
  [/XDG_RUNTIME_DIR is invalid or not set/, 'a Vulkan driver found no XDG_RUNTIME_DIR (harmless: vds opens no windows)'],
  // lavapipe (Mesa's CPU Vulkan) lacks a feature Dawn requires, so Dawn declines it
  [/shaderUniform\*ArrayDynamicIndexing required/, 'Dawn declined a Vulkan device that lacks dynamic indexing of shader arrays (Mesa\'s lavapipe does)'],
];

/**
 * The drivers' stderr as one line: each distinct message once, without the "error:"/"Warning:" prefixes
 * (they are the driver's, not vds's verdict) and without Dawn's source locations.
 */
export function summariseDriverOutput(stderr: string): string {
  const said: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (!line || /^at \S+ \(.*\)$/.test(line)) continue; // Dawn's "at InitializeImpl (…/PhysicalDeviceVk.cpp:257)"
    const text = line.replace(/^(error|warning|info)\s*:\s*/i, '').replace(/^- /, '').replace(/\.$/, '');
    if (/^While initializing adapter/i.test(text)) continue; // Dawn's context for the line before it
    const known = KNOWN.find(([re]) => re.test(text));
    const words = known ? known[1] : text;
    if (!said.includes(words)) said.push(words);
  }
  return said.join('; ');
}
