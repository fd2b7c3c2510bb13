// The engine's name as runs record it (env.json `engine`), and the variable that puts it on Dawn's null device,
// apart from the engine so that backend selection can name them without loading any of it.
export const ENGINE_NAME = 'vds-webgpu';
export const DAWN_BACKEND_ENV = 'VDS_DAWN_BACKEND';
