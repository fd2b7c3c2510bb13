import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
await selectBackend('wasm');
const b = tf.backend() as any;
console.log(Object.keys(b), Object.keys(b.wasm).filter(k => /HEAP|memory|Memory/.test(k)));
console.log(b.wasm.HEAPU8?.length, b.wasm.wasmMemory?.buffer?.byteLength);
const t = tf.zeros([1000, 1000, 50]); t.dispose();
console.log(b.wasm.HEAPU8?.length);
