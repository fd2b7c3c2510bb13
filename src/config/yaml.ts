// A resolved config as YAML, in the schema's key order (so run directories diff cleanly), and back.
import YAML, { isSeq, visit } from 'yaml';
import { defaultConfig } from './defaults.ts';
import { layers, resolve } from './load.ts';
import { SCHEMA, type Node } from './schema.ts';
import type { VdsConfig } from './types.ts';

function ordered(n: Node, v: unknown): unknown {
  if (n.leaf || typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(n.fields)) if (src[k] !== undefined) out[k] = ordered(child, src[k]);
  for (const k of Object.keys(src)) if (!(k in out) && src[k] !== undefined) out[k] = src[k]; // not ours, but not lost either
  return out;
}

/** The config as YAML: schema key order, lists of numbers on one line (`lrMilestones: [100, 200]`). */
export function configToYaml(cfg: Readonly<VdsConfig>): string {
  const doc = new YAML.Document(ordered(SCHEMA, cfg));
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node)) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * Runs written before the `eval` section existed (vds < 0.2) were selected with the reference's running
 * statistics: read back, they keep that selection (precise statistics are still computed beside it).
 */
const EVAL_BEFORE_0_2 = 'eval:\n  statistics: running\n  calibrationBatches: 10\n  calibrationBatchSize: null\n';

/** A resolved config read back (config.yaml in a run directory, a checkpoint's header): every key must be
 * present and valid, and nothing is derived or filled in, so the run is exactly what was recorded — except
 * the `eval` section of a config written before it existed (EVAL_BEFORE_0_2, appended so lines stay put). */
export function parseResolvedConfig(text: string, file: string): Readonly<VdsConfig> {
  let parsed: unknown = null;
  try {
    parsed = YAML.parse(text);
  } catch {
    // a syntax error: the resolution below reports it with its line
  }
  const old = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && !('eval' in parsed);
  const body = old ? `${text.endsWith('\n') ? text : text + '\n'}${EVAL_BEFORE_0_2}` : text;
  return resolve({ base: defaultConfig(), complete: file, deriveKind: false }, [layers.text(body, file)]).config;
}
