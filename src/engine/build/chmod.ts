/**
 * `COPY/ADD --chmod=` as BuildKit reads it (dockerfile2llb dispatchCopy, which Docker 28's
 * classic builder refuses but berth implements): an octal number up to 07777 replaces the
 * permission bits; anything else is a symbolic mode of chmod(1) (BSD setmode, as the
 * tonistiigi/dchapes-mode package BuildKit uses, with a umask of 0) applied to each copied file
 * and directory: comma-separated clauses `[ugoa]*([-+=]([rwxXst]*|[ugo]))+`.
 */
import { invalidParameter } from '../../common/index.ts';

export type ChmodFn = (perm: number, isDir: boolean) => number;

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o0007, a: 0o6777 };
const STANDARD = 0o6777;

/** Parses a `--chmod` value: a number (octal) or a function of the current mode. */
export function parseChmod(spec: string): number | ChmodFn {
  if (/^[0-7]+$/.test(spec)) {
    const v = Number.parseInt(spec, 8);
    if (v <= 0o7777) return v;
  }
  const nonOctal = invalidParameter(
    `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`,
  );
  if (/^[0-9]/.test(spec)) throw nonOctal;
  const clauses = parseSymbolic(spec);
  return (perm, isDir) => {
    let mode = perm & 0o7777;
    for (const c of clauses) mode = applyClause(c, mode, isDir);
    return mode;
  };
}

interface Action {
  op: '+' | '-' | '=';
  /** r/w/x/X/s/t letters, or a class to copy from (u, g, o). */
  perms: string;
}

interface Clause {
  who: string;
  actions: Action[];
}

function parseSymbolic(spec: string): Clause[] {
  const out: Clause[] = [];
  for (const part of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/.exec(part);
    if (!m) throw invalidParameter('invalid syntax');
    const actions: Action[] = [];
    for (const a of m[2]!.matchAll(/([-+=])([ugo]|[rwxXst]*)/g))
      actions.push({ op: a[1] as Action['op'], perms: a[2]! });
    out.push({ who: m[1]!, actions });
  }
  return out;
}

function applyClause(c: Clause, mode: number, isDir: boolean): number {
  let who = 0;
  for (const w of c.who) who |= WHO[w]!;
  const onlyOther = who !== 0 && (who & ~0o0007) === 0;
  const mask = who === 0 ? STANDARD : who;
  let m = mode;
  for (const { op, perms } of c.actions) {
    let bits = 0;
    if (perms === 'u' || perms === 'g' || perms === 'o') {
      // Copy a class's rwx bits to the classes named.
      const shift = perms === 'u' ? 6 : perms === 'g' ? 3 : 0;
      const rwx = (m >> shift) & 0o7;
      bits = ((rwx << 6) | (rwx << 3) | rwx) & mask & 0o777;
    } else {
      for (const p of perms) {
        if (p === 'r') bits |= 0o444;
        else if (p === 'w') bits |= 0o222;
        else if (p === 'x') bits |= 0o111;
        else if (p === 'X') {
          if (op === '-' || isDir || (m & 0o111) !== 0) bits |= 0o111;
        } else if (p === 's' && !onlyOther) bits |= 0o6000;
        else if (p === 't' && !onlyOther) bits |= 0o1000;
      }
      bits &= who === 0 ? 0o7777 : who | (bits & 0o1000);
    }
    if (op === '+') m |= bits;
    else if (op === '-') m &= ~bits;
    else m = (m & ~(who === 0 ? STANDARD : who)) | bits;
  }
  return m & 0o7777;
}
