/**
 * Signal names and numbers on Linux, parsed the way Docker parses `--stop-signal`, `docker kill
 * --signal` and the image's StopSignal (moby/sys/signal ParseSignal: a positive number is taken
 * as is; otherwise an optional `SIG` prefix is dropped, the name upper-cased and looked up).
 */
import { invalidParameter } from '../../common/index.ts';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** Linux signal numbers (x86_64/arm64 numbering, as in moby/sys/signal signal_linux.go). */
const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
  RTMIN: SIGRTMIN,
  RTMAX: SIGRTMAX,
};
// Docker names the real-time signals RTMIN+1..RTMIN+15 and RTMAX-14..RTMAX-1.
for (let i = 1; i <= 15; i++) SIGNALS[`RTMIN+${i}`] = SIGRTMIN + i;
for (let i = 1; i <= 14; i++) SIGNALS[`RTMAX-${i}`] = SIGRTMAX - i;

/** The preferred name of each number (first listed wins: ABRT over IOT, CHLD over CLD, IO over POLL). */
const NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(SIGNALS)) if (!NAMES.has(n)) NAMES.set(n, `SIG${name}`);

/**
 * `SIGTERM`, `TERM`, `term`, `15`, `SIGRTMIN+3` → the Linux signal number.
 * Throws InvalidParameter `Invalid signal: X` (Docker 20.10's wording) for 0, unknown names and
 * numbers outside 1..64.
 */
export function parseSignal(raw: string): number {
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number.parseInt(raw, 10);
    // Docker accepts any non-zero integer here and lets kill(2) fail later; we reject what
    // Linux cannot deliver so a bad StopSignal is caught at create.
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw invalidParameter(`Invalid signal: ${raw}`);
  }
  const key = raw.toUpperCase().replace(/^SIG/, '');
  const n = SIGNALS[key];
  if (n === undefined) throw invalidParameter(`Invalid signal: ${raw}`);
  return n;
}

/** 15 → `SIGTERM`, 37 → `SIGRTMIN+3`; unknown numbers → their decimal string. */
export function signalName(n: number): string {
  return NAMES.get(n) ?? String(n);
}
