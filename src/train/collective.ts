// Data-parallel training's collectives, through shared memory: all-reduce (sum) and all-gather across the
// replicas of a step. Every replica runs the same graph in the same order, so the k-th call on one replica
// meets the k-th call on every other. Sums are taken in rank order on every replica, so all replicas get
// bit-identical results and their weights stay identical without ever being copied.

export interface Collective {
  readonly rank: number;
  readonly size: number;
  /** Σ over replicas of `v` (same length on each); blocks until every replica has contributed. */
  allReduce(v: Float32Array): Float32Array;
  /** Every replica's `v`, in rank order. */
  allGather(v: Float32Array): Float32Array[];
}

let active: Collective | null = null;

/** The collective of the step being run, or null outside a data-parallel step. */
export function activeCollective(): Collective | null {
  return active;
}

/** Runs `fn` with `c` as the active collective (the BatchNorm ops read it). */
export function withCollective<T>(c: Collective, fn: () => T): T {
  if (active) throw new Error('a data-parallel step is already running');
  active = c;
  try {
    return fn();
  } finally {
    active = null;
  }
}

// Control words in the shared Int32Array
const GEN = 0; // barrier generation
const COUNT = 1; // replicas arrived at the current barrier
const FAILED = 2; // 1 once any replica failed: the others stop waiting and throw
const MESSAGE_LEN = 3; // bytes of the failure message
const CONTROL_WORDS = 4;
const MESSAGE_BYTES = 1024;

/** Shared memory for `size` replicas exchanging up to `maxFloats` numbers each at a time. */
export function collectiveBuffer(size: number, maxFloats: number): SharedArrayBuffer {
  // two slot sets used alternately: a replica can write call k+1's numbers while a slower one still reads
  // call k's; by call k+2 every replica has passed call k+1's barrier, so it has finished reading k
  return new SharedArrayBuffer(4 * CONTROL_WORDS + MESSAGE_BYTES + 4 * 2 * size * maxFloats);
}

export class SharedCollective implements Collective {
  private readonly control: Int32Array;
  private readonly message: Uint8Array;
  private readonly slots: Float32Array;
  private readonly maxFloats: number;
  private calls = 0;

  constructor(
    buffer: SharedArrayBuffer,
    readonly rank: number,
    readonly size: number,
    private readonly timeoutMs = 10 * 60_000,
  ) {
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.message = new Uint8Array(buffer, 4 * CONTROL_WORDS, MESSAGE_BYTES);
    const floats = (buffer.byteLength - 4 * CONTROL_WORDS - MESSAGE_BYTES) / 4;
    this.slots = new Float32Array(buffer, 4 * CONTROL_WORDS + MESSAGE_BYTES, floats);
    this.maxFloats = floats / (2 * size);
  }

  allReduce(v: Float32Array): Float32Array {
    const parts = this.exchange(v);
    const out = new Float32Array(v.length);
    for (const p of parts) for (let i = 0; i < v.length; i++) out[i] += p[i];
    return out;
  }

  allGather(v: Float32Array): Float32Array[] {
    return this.exchange(v).map((p) => new Float32Array(p));
  }

  /** Views of every replica's slot once all have written theirs (valid until the call after next). */
  private exchange(v: Float32Array): Float32Array[] {
    if (v.length > this.maxFloats) throw new Error(`exchange of ${v.length} numbers exceeds the shared buffer (${this.maxFloats})`);
    const set = this.calls++ & 1;
    const slot = (r: number): number => (set * this.size + r) * this.maxFloats;
    this.slots.set(v, slot(this.rank));
    this.barrier();
    return Array.from({ length: this.size }, (_, r) => this.slots.subarray(slot(r), slot(r) + v.length));
  }

  private barrier(): void {
    const c = this.control;
    const gen = Atomics.load(c, GEN);
    if (Atomics.add(c, COUNT, 1) === this.size - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
      return;
    }
    // the others are usually microseconds away (each replica has its own core): spin briefly before
    // sleeping, since waking from Atomics.wait costs tens of microseconds on every one of ~100 barriers
    for (let i = 0; i < 20000; i++) if (Atomics.load(c, GEN) !== gen) return;
    const t0 = Date.now();
    for (;;) {
      Atomics.wait(c, GEN, gen, 1000);
      if (Atomics.load(c, GEN) !== gen) return;
      if (Atomics.load(c, FAILED)) throw new Error(`data-parallel replica failed: ${this.failure()}`);
      if (Date.now() - t0 > this.timeoutMs) {
        this.fail(`replica ${this.rank} waited ${this.timeoutMs / 1000} s for the others`);
        throw new Error(`data-parallel replica ${this.rank}: the other replicas stopped responding`);
      }
    }
  }

  /** Marks the group failed (first message wins) and wakes every waiting replica. */
  fail(message: string): void {
    if (Atomics.compareExchange(this.control, FAILED, 0, 1) === 0) {
      const bytes = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
      this.message.set(bytes);
      Atomics.store(this.control, MESSAGE_LEN, bytes.length);
    }
    Atomics.notify(this.control, GEN);
  }

  failure(): string {
    return new TextDecoder().decode(this.message.slice(0, Atomics.load(this.control, MESSAGE_LEN)));
  }
}
