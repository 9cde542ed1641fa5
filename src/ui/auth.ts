/**
 * Who may use the UI. On a loopback address (127.0.0.1, ::1, localhost) anyone on this machine
 * may; on any other address every request needs the token (MLOPS_UI_TOKEN) as
 * `Authorization: Bearer TOKEN` or the HttpOnly cookie a one-time `/?token=TOKEN` link sets.
 * Tokens are compared in constant time. Actions (POST) must also come from the UI's own origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '../errors.js';

export const COOKIE = 'mlops_ui_token';

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);

/** The token a non-loopback address needs; a ConfigError (exit 2) when there is none. */
export function requiredToken(host: string, token: string | undefined): string | null {
  if (isLoopback(host)) return token || null;
  if (!token) {
    throw new ConfigError(
      `mlops ui on ${host}: every request there needs a token, and MLOPS_UI_TOKEN is not set`,
      'set MLOPS_UI_TOKEN (e.g. MLOPS_UI_TOKEN=$(openssl rand -hex 16)), or listen on 127.0.0.1',
    );
  }
  if (token.length < 16) throw new ConfigError('MLOPS_UI_TOKEN is shorter than 16 characters', 'use a long random token, e.g. $(openssl rand -hex 16)');
  return token;
}

/** Constant-time equality: both sides hashed to 32 bytes first, so lengths never leak or differ. */
export function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null; // malformed %-escapes: no credential (a 401, not a 500)
      }
    }
  }
  return null;
}

/** How the request proved it holds the token: 'bearer', 'cookie', or null. */
export function credential(req: IncomingMessage, token: string): 'bearer' | 'cookie' | null {
  // the scheme is case-insensitive (RFC 9110 11.1): `authorization: bearer T` is the same credential
  const bearer = /^bearer[ \t]+(.*)$/is.exec(req.headers.authorization ?? '');
  if (bearer && sameToken(bearer[1]!.trim(), token)) return 'bearer';
  const c = cookieValue(req, COOKIE);
  if (c !== null && sameToken(c, token)) return 'cookie';
  return null;
}

/** Whether a POST comes from the UI's own origin (the Origin header names this host and port). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' && u.host === host;
  } catch {
    return false;
  }
}
