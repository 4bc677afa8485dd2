/**
 * `-v` / HostConfig.Binds strings and `--volumes-from` values, parsed as Docker's Linux mount
 * parser does (moby daemon/volume/mounts linux_parser.go ParseMountRaw / ParseVolumesFrom):
 *   `/ctr`                   anonymous volume
 *   `name:/ctr[:mode]`       named volume
 *   `/host:/ctr[:mode]`      bind mount (an absolute source means bind)
 * where mode is a comma list of at most one each of `ro|rw`, `z|Z`, a propagation
 * (`private`, `rprivate`, `shared`, `rshared`, `slave`, `rslave`), `nocopy`, and a consistency
 * (`consistent`, `cached`, `delegated`).
 *
 * The engine parses binds at create (validateCreate does) and resolves them at start: bind
 * sources are created when missing (Docker's -v behaviour), volumes come from the volume domain.
 */
import { invalidParameter } from '../../common/index.ts';
import { normalizePath, PROPAGATION_MODES, validateMountConfig } from './mount-config.ts';

export interface BindSpec {
  type: 'bind' | 'volume';
  /** Host path (bind, cleaned) or volume name ('' = anonymous volume). */
  source: string;
  /** Cleaned absolute path in the container. */
  destination: string;
  readOnly: boolean;
  /** The mode string as given (`ro,z`); '' when none. */
  mode: string;
  /** Bind propagation (default `rprivate`); '' for volumes without one. */
  propagation: string;
  /** `nocopy`: don't copy the image's content into a new volume. */
  noCopy: boolean;
  /** The container's VolumeDriver, for named and anonymous volumes. */
  driver?: string;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated', 'default']);

/** linuxValidMountMode: known options only, at most one of each kind. */
function isValidMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, propagation: 0, copy: 0, consistency: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts.rw++;
    else if (LABEL_MODES.has(o)) counts.label++;
    else if (PROPAGATION_MODES.has(o)) counts.propagation++;
    else if (COPY_MODES.has(o)) counts.copy++;
    else if (CONSISTENCY_MODES.has(o)) counts.consistency++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

const invalidSpec = (raw: string) => `invalid volume specification: '${raw}'`;

/**
 * Parses one Binds entry. Throws InvalidParameter with Docker's texts:
 * `invalid volume specification: '…'`, `invalid mode: …`.
 */
export function parseBind(raw: string, volumeDriver = ''): BindSpec {
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw invalidParameter(invalidSpec(raw));
  let source = '';
  let target = '';
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0] ?? '';
      break;
    case 2:
      // `/foo:rw` is a destination plus mode, which a volume cannot be.
      if (isValidMountMode(arr[1] ?? '')) throw invalidParameter(invalidSpec(raw));
      source = arr[0] ?? '';
      target = arr[1] ?? '';
      break;
    case 3:
      source = arr[0] ?? '';
      target = arr[1] ?? '';
      mode = arr[2] ?? '';
      break;
    default:
      throw invalidParameter(invalidSpec(raw));
  }
  if (!isValidMountMode(mode)) throw invalidParameter(`invalid mode: ${mode}`);
  const options = mode === '' ? [] : mode.split(',');
  const type = source.startsWith('/') ? 'bind' : 'volume';
  const propagation = options.find((o) => PROPAGATION_MODES.has(o)) ?? '';
  try {
    validateMountConfig({ Type: type, Source: source, Target: target });
  } catch (err) {
    throw invalidParameter(`${invalidSpec(raw)}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return {
    type,
    source: type === 'bind' ? normalizePath(source) : source,
    destination: normalizePath(target),
    readOnly: options.includes('ro'),
    mode,
    propagation: type === 'bind' ? propagation || 'rprivate' : propagation,
    noCopy: options.includes('nocopy'),
    ...(type === 'volume' && volumeDriver !== '' ? { driver: volumeDriver } : {}),
  };
}

/** `--volumes-from c[:ro|rw]` → the container and the mode (default `rw`); no propagation or nocopy. */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (spec === '') throw invalidParameter('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { container, mode: 'rw' };
  const options = mode.split(',');
  if (!isValidMountMode(mode) || options.some((o) => PROPAGATION_MODES.has(o) || COPY_MODES.has(o))) {
    throw invalidParameter(`invalid mode: ${mode}`);
  }
  return { container, mode };
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}
