/**
 * Worker threads for fitGbt, driven synchronously: fitGbt stays a plain function. Each worker
 * shares the training state (SharedArrayBuffers) and a small control array; the main thread
 * writes a command there (or posts it on a MessagePort), bumps the control word, does its own
 * share of the work, then waits until every worker has acknowledged (protocol.ts). The worker
 * (worker.ts) pulls messages with receiveMessageOnPort, so neither side needs an event loop.
 *
 * The worker is the built file dist/model/gbt/worker.js, found next to this module
 * (import.meta.url) or, when this module runs from the TypeScript sources (tests), at the same
 * place under dist/. Without it, or when a worker does not start, fitting uses one thread.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { builtModule } from '../../builtmodule.js';
import { CTRL, CTRL_BYTES, LUT_OFFSET, OP, waitChange, type Message } from './protocol.js';

/** How long a worker may take to start before fitting goes on with one thread. */
const START_TIMEOUT_MS = 10_000;
/** How long a command may take before the worker counts as lost. */
const COMMAND_TIMEOUT_MS = 300_000;

/** Where the built worker is, or null. */
export const workerUrl = (): URL | null => builtModule(import.meta.url, 'worker.js');

/** Threads fitGbt uses by default: the cores there are, at most 2 (env MLOPS_GBT_THREADS overrides). */
export function defaultThreads(): number {
  const env = Number(process.env.MLOPS_GBT_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.min(2, availableParallelism());
}

interface Member {
  worker: Worker;
  port: MessagePort;
  ctrl: Int32Array;
  args: Int32Array;
  lut: Uint8Array;
  posted: number;
}

/** The main thread plus size - 1 workers. */
export class Team {
  private constructor(private readonly members: Member[]) {}

  /** Total threads, the main one included. */
  get size(): number {
    return this.members.length + 1;
  }

  /** Start threads - 1 workers; null when threads < 2 or a worker cannot be had. */
  static open(threads: number): Team | null {
    if (threads < 2) return null;
    const url = workerUrl();
    if (!url) return null;
    const members: Member[] = [];
    try {
      for (let t = 1; t < threads; t++) {
        const buffer = new SharedArrayBuffer(CTRL_BYTES);
        const ctrl = new Int32Array(buffer, 0, LUT_OFFSET / 4);
        const { port1, port2 } = new MessageChannel();
        const worker = new Worker(url, { workerData: { ctrl: buffer, port: port2 }, transferList: [port2] });
        worker.unref();
        // A failing worker shows as one that does not answer; keep its error from going unhandled.
        worker.on('error', () => {});
        members.push({ worker, port: port1, ctrl, args: ctrl.subarray(CTRL.args), lut: new Uint8Array(buffer, LUT_OFFSET, 256), posted: 0 });
      }
      for (const m of members) {
        if (Atomics.wait(m.ctrl, CTRL.ready, 0, START_TIMEOUT_MS) === 'timed-out') throw new Error('gbt worker did not start');
      }
    } catch {
      for (const m of members) void m.worker.terminate();
      return null;
    }
    return new Team(members);
  }

  /** Send worker t (1..size-1) a command with integer arguments (and a lookup table). */
  command(t: number, op: number, args: readonly number[], lut?: Uint8Array): void {
    const m = this.idle(t);
    m.args.set(args);
    if (lut) m.lut.set(lut);
    this.kick(m, op);
  }

  /** Send worker t a message-borne command. */
  message(t: number, message: Message): void {
    const m = this.idle(t);
    m.port.postMessage(message);
    this.kick(m, OP.message);
  }

  broadcast(message: Message): void {
    for (let t = 1; t < this.size; t++) this.message(t, message);
  }

  /** Wait until worker t has done everything posted to it; its last command's result. */
  wait(t: number): number {
    this.idle(t);
    return Atomics.load(this.members[t - 1]!.ctrl, CTRL.result);
  }

  waitAll(): void {
    for (let t = 1; t < this.size; t++) this.idle(t);
  }

  close(): void {
    this.members.forEach((m, i) => {
      try {
        this.message(i + 1, { op: 'exit' });
      } catch {
        // It is terminated below anyway.
      }
      m.port.close();
      void m.worker.terminate();
    });
  }

  private kick(m: Member, op: number): void {
    Atomics.store(m.ctrl, CTRL.op, op);
    m.posted++;
    Atomics.store(m.ctrl, CTRL.posted, m.posted);
    if (Atomics.load(m.ctrl, CTRL.workerSleeps)) Atomics.notify(m.ctrl, CTRL.posted);
  }

  private idle(t: number): Member {
    const m = this.members[t - 1]!;
    for (;;) {
      const done = Atomics.load(m.ctrl, CTRL.done);
      if (done === m.posted) break;
      if (!waitChange(m.ctrl, CTRL.done, done, CTRL.mainSleeps, COMMAND_TIMEOUT_MS)) throw new Error('gbt worker stopped answering');
    }
    if (Atomics.load(m.ctrl, CTRL.failed)) throw new Error('gbt worker failed');
    return m;
  }
}
