/**
 * Test hook for crash-safety tests: with MLOPS_PAUSE_AT=<point>, the process announces
 * "paused at <point>" on stderr and waits there (MLOPS_PAUSE_MS, default 60 s), so a test can
 * SIGKILL it at that exact moment or make a run last long enough to overlap. Does nothing otherwise.
 */
export async function pausePoint(point: string, signal?: AbortSignal): Promise<void> {
  if (process.env.MLOPS_PAUSE_AT !== point) return;
  process.stderr.write(`paused at ${point}\n`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Number(process.env.MLOPS_PAUSE_MS) || 60_000);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
