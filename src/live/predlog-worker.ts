/**
 * The prediction log's writer thread: formats the batches the server's thread moves here and
 * appends them to the segments (segmentwriter.ts), one at a time, in order, answering each with
 * what became of it (and the batch's arrays, moved back for reuse).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { batchBuffers } from './predbatch.js';
import { SegmentWriter, type WriteJob } from './segmentwriter.js';
import type { PredLogSettings } from './settings.js';

export interface WorkerRequest {
  id: number;
  job?: WriteJob;
  close?: boolean;
}

const port = parentPort!;
const { dir, settings, prefix } = workerData as { dir: string; settings: PredLogSettings; prefix: string };
const writer = new SegmentWriter(dir, settings, prefix);
let chain: Promise<void> = Promise.resolve();

port.on('message', (m: WorkerRequest) => {
  chain = chain.then(async () => {
    if (m.job) {
      const ack = await writer.write(m.job);
      port.postMessage({ id: m.id, ack }, batchBuffers(ack.batch));
    } else {
      const error = await writer.close().then(() => null, (err: Error) => err.message);
      port.postMessage({ id: m.id, error });
    }
  });
});
