// The engine's name as runs record it (env.json `engine`), apart from the engine so that backend selection
// can name it without loading any of it.
export const ENGINE_NAME = 'vds-webgpu';
