/**
 * The UI's data profiles in a worker thread (see profilejob.ts): each message computes the
 * profiles and drift of the current data into ui-cache and answers null, or the error. Built as
 * dist/ui/profileworker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../store/config.js';
import { runProfileJob } from './profilejob.js';

const cfg = (workerData as { config: Config }).config;

parentPort!.on('message', (job: { id: number }) => {
  void runProfileJob(cfg).then((result) => parentPort!.postMessage({ id: job.id, result }));
});
