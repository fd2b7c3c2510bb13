// Checkpoints: one self-describing file holding every tensor a run needs to continue (weights, BatchNorm
// running statistics, α, momentum buffers) plus a JSON header (resolved config, training state, RNG
// state). Layout: "VDSCKPT1" | uint32 LE header length | header JSON | float32 data (4-byte aligned).
// The header carries the data's sha256, so a truncated or corrupted file is refused, never half-used.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VdsError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fsx.ts';

const MAGIC = 'VDSCKPT1';
export const CHECKPOINT_FORMAT = 1;

export interface TensorEntry {
  name: string; // e.g. 'param:blocks.3.conv2.w', 'buffer:head.bn.runningMean', 'alpha', 'momentum:stem.w'
  shape: number[];
  offset: number; // in float32 elements from the start of the data section
}

export interface CheckpointHeader<S = unknown> {
  format: number;
  vdsVersion: string;
  kind: 'train' | 'pruned';
  config: unknown; // the resolved config the run was started with
  state: S; // training state (epoch, early stopping, RNG, history) or pruning details
  tensors: TensorEntry[];
  dataSha256: string;
  createdAt: string;
}

export interface Checkpoint<S = unknown> {
  header: CheckpointHeader<S>;
  tensors: Map<string, { shape: number[]; values: Float32Array }>;
}

export function encodeCheckpoint<S>(
  meta: Omit<CheckpointHeader<S>, 'format' | 'tensors' | 'dataSha256' | 'createdAt'>,
  tensors: Map<string, { shape: number[]; values: Float32Array }>,
): Uint8Array {
  const entries: TensorEntry[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    entries.push({ name, shape: t.shape, offset: total });
    total += t.values.length;
  }
  const data = new Float32Array(total);
  for (const e of entries) data.set(tensors.get(e.name)!.values, e.offset);
  const dataBytes = new Uint8Array(data.buffer);
  const header: CheckpointHeader<S> = {
    ...meta,
    format: CHECKPOINT_FORMAT,
    tensors: entries,
    dataSha256: createHash('sha256').update(dataBytes).digest('hex'),
    createdAt: new Date().toISOString(),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.from(' '.repeat(pad))]);
  const out = Buffer.alloc(MAGIC.length + 4 + json.length + dataBytes.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  Buffer.from(dataBytes).copy(out, MAGIC.length + 4 + json.length);
  return out;
}

export async function writeCheckpoint<S>(
  file: string,
  meta: Omit<CheckpointHeader<S>, 'format' | 'tensors' | 'dataSha256' | 'createdAt'>,
  tensors: Map<string, { shape: number[]; values: Float32Array }>,
): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(meta, tensors));
}

function bad(file: string, what: string): VdsError {
  return new VdsError(`not a usable vds checkpoint: ${what}`, {
    file,
    hint: 'resume from another run directory, or start the run again without --resume',
  });
}

export function decodeCheckpoint<S>(buf: Buffer, file: string): Checkpoint<S> {
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw bad(file, `expected the "${MAGIC}" signature at the start`);
  }
  const headerLength = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLength;
  if (dataStart > buf.length) throw bad(file, `header of ${headerLength} bytes runs past the end of the file (${buf.length} bytes): truncated`);
  let header: CheckpointHeader<S>;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, dataStart));
  } catch (e) {
    throw bad(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (header.format !== CHECKPOINT_FORMAT) throw bad(file, `format ${header.format}, expected ${CHECKPOINT_FORMAT}`);
  if (!Array.isArray(header.tensors)) throw bad(file, 'header has no tensor list');
  const dataBytes = buf.subarray(dataStart);
  const expectedLength = header.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0) * 4;
  if (dataBytes.length !== expectedLength) {
    throw bad(file, `data section has ${dataBytes.length} bytes, the header describes ${expectedLength}: truncated or corrupted`);
  }
  const sha = createHash('sha256').update(dataBytes).digest('hex');
  if (sha !== header.dataSha256) throw bad(file, 'data checksum mismatch: the file is corrupted');
  const data = new Float32Array(dataBytes.buffer.slice(dataBytes.byteOffset, dataBytes.byteOffset + dataBytes.length));
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const t of header.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(t.name, { shape: t.shape, values: data.subarray(t.offset, t.offset + size) });
  }
  return { header, tensors };
}

export function readCheckpoint<S>(file: string): Checkpoint<S> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new VdsError(`cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file });
  }
  return decodeCheckpoint<S>(buf, file);
}
