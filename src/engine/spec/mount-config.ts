/**
 * HostConfig.Mounts entries checked as Docker's Linux mount parser does at create
 * (moby daemon/volume/mounts linux_parser.go validateMountConfigImpl), and lexical path
 * helpers shared by the binds parser and the spec builder.
 */
import type { MountSpec } from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';
import { convertTmpfsOptions } from './tmpfs.ts';

const fail = (message: string): never => {
  throw invalidParameter(message);
};

/** volume/mounts linuxParser.ValidateMountConfig, minus the bind-source-exists check (I/O). */
export function validateMountConfig(m: MountSpec): void {
  const bad = (msg: string) => fail(`invalid mount config for type "${m.Type ?? ''}": ${msg}`);
  if (m.Type !== 'bind' && m.BindOptions) bad('field BindOptions must not be specified');
  if (m.Type !== 'volume' && m.VolumeOptions) bad('field VolumeOptions must not be specified');
  if (m.Type !== 'tmpfs' && m.TmpfsOptions) bad('field TmpfsOptions must not be specified');
  if (!m.Target) bad('field Target must not be empty');
  const target = m.Target ?? '';
  if (normalizePath(target) === '/') bad("invalid specification: destination can't be '/'");
  if (!target.startsWith('/')) bad(`invalid mount path: '${target}' mount path must be absolute`);
  switch (m.Type) {
    case 'bind': {
      if (!m.Source) bad('field Source must not be empty');
      const propagation = m.BindOptions?.Propagation;
      if (propagation && !PROPAGATION_MODES.has(propagation)) bad(`invalid propagation mode: ${propagation}`);
      if (!(m.Source ?? '').startsWith('/'))
        bad(`invalid mount path: '${m.Source}' mount path must be absolute`);
      break;
    }
    case 'volume': {
      const subpath = m.VolumeOptions?.Subpath;
      if (subpath) {
        if (!m.Source) bad('must not set Subpath when using anonymous volumes');
        if (subpath.startsWith('/') || normalizePath(subpath).split('/').includes('..')) {
          bad('subpath must be a relative path within the volume');
        }
      }
      break;
    }
    case 'tmpfs':
      if (m.Source) bad('field Source must not be specified');
      try {
        convertTmpfsOptions(m.TmpfsOptions, m.ReadOnly ?? false);
      } catch (err) {
        bad(err instanceof Error ? err.message : String(err));
      }
      break;
    default:
      bad('mount type unknown');
  }
}

export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

/** Lexical path.Clean for absolute and relative paths. */
export function normalizePath(p: string): string {
  const isAbs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part === '..' && isAbs) continue;
    else out.push(part);
  }
  const joined = out.join('/');
  return isAbs ? `/${joined}` : joined || '.';
}
