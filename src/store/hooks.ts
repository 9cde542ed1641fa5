/**
 * Hooks: config.json's "hooks" run on registry events. A command receives the event as one
 * JSON object on stdin; a URL receives it as a POST with a JSON body. A hook that fails, hangs
 * past its timeout or cannot start is written to registry/hooks.log and a warning on stderr;
 * it never fails the command that raised the event.
 */
import { spawn } from 'node:child_process';
import { appendJsonLine } from './atomic.js';
import type { Config, HookSettings } from './config.js';
import { registryPaths, type RegistryEvent } from './registry.js';

export async function runHooks(cfg: Config, event: RegistryEvent): Promise<void> {
  const hooks = cfg.hooks.filter((h) => h.events === null || h.events.includes(event.kind));
  for (const h of hooks) {
    const outcome = await runHook(h, event, cfg.root).catch((err: Error) => err.message);
    if (outcome !== null) {
      const target = h.command ?? h.url ?? '';
      process.stderr.write(`mlops: warning: hook ${JSON.stringify(target.slice(0, 80))} on ${event.kind} failed: ${outcome}\n`);
      await appendJsonLine(registryPaths(cfg).hookLog, { time: new Date().toISOString(), event: event.kind, hook: target, error: outcome }).catch(() => undefined);
    }
  }
}

/** null when the hook succeeded, else why it failed. */
async function runHook(h: HookSettings, event: RegistryEvent, cwd: string): Promise<string | null> {
  const body = JSON.stringify(event);
  if (h.command) {
    return new Promise((resolve) => {
      const child = spawn(h.command!, { shell: true, cwd, stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(`timed out after ${h.timeout_ms} ms`);
      }, h.timeout_ms);
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve(e.message);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code === 0 ? null : `exit code ${code}${err.trim() ? `: ${err.trim().split('\n').at(-1)}` : ''}`);
      });
      child.stdin.on('error', () => undefined); // a hook that does not read its stdin
      child.stdin.end(body + '\n');
    });
  }
  const res = await fetch(h.url!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(h.timeout_ms),
  });
  return res.ok ? null : `HTTP ${res.status}`;
}
