/**
 * The Live page's background job in a worker thread: parsing the prediction log is synchronous
 * work (a segment at a time), and in the UI's own thread it would hold up every other request.
 * The thread computes the summary and takes a look at the experiment's verdict (recorded by
 * experimentStatus); it keeps the fitted CBPE references between jobs. Built as
 * dist/ui/liveworker.js; see liveJobs in live.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../store/config.js';
import { runLiveJob, type LiveJob } from './livejob.js';

const cfg = (workerData as { config: Config }).config;
const references = new Map();

parentPort!.on('message', (job: LiveJob & { id: number }) => {
  void runLiveJob(cfg, job, references).then((result) => parentPort!.postMessage({ id: job.id, result }));
});
