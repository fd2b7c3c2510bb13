// The config API: defaults, loading with overrides, and the resolved config as YAML.
export type * from './types.ts';
export { defaultConfig } from './defaults.ts';
export { loadConfig, readSetValue, type DeepPartial, type LoadOptions, type LoadResult } from './load.ts';
export { configToYaml, parseResolvedConfig } from './yaml.ts';
export { BACKENDS, DATASETS, METHODS, MODEL_KINDS, PRIOR_KINDS, PRUNE_RULES, VECTOR_DATASETS } from './schema.ts';
