import { createRequire } from 'node:module';

/**
 * Node built-ins that cost a short-lived process (berth-runtime, the berth CLI) several
 * milliseconds to load and that only some of its commands use: `berth-runtime state` needs none
 * of them, `berth ps` over a unix socket neither https (with tls and crypto) nor child_process. Each is loaded on first call; Node caches it.
 */
const require = createRequire(import.meta.url);

export const loadChildProcess = (): typeof import('node:child_process') => require('node:child_process');
export const loadHttps = (): typeof import('node:https') => require('node:https');
export const loadCrypto = (): typeof import('node:crypto') => require('node:crypto');
export const loadNet = (): typeof import('node:net') => require('node:net');
export const loadStream = (): typeof import('node:stream') => require('node:stream');
