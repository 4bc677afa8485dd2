/**
 * The row objects docker's formatters expose to templates (docker/cli cli/command/formatter
 * container.go and image.go), built from API list items. Every field is a string, computed as
 * docker computes it, so `--format '{{.Status}}'` and the default tables print what docker prints.
 */
import type { ContainerSummary, ImageSummary, Port } from '../api/types/index.ts';
import { familiarName } from './image-ref.ts';
import { humanDuration, humanSize } from './units.ts';

export const PS_DEFAULT_TABLE =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Label: 'LABEL',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

export const IMAGES_DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_DIGESTS_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** stringid.TruncateID: drops an algorithm prefix and keeps 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** formatter.Ellipsis: at most `max` display characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 0) return '';
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** strconv.Quote for the printable strings commands usually are. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's time.Time.String() in local time: `2024-05-01 10:00:00 +0200 CEST`. */
export function goTimeString(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const zone =
    new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(date)
      .find((x) => x.type === 'timeZoneName')?.value ?? '';
  const zoneName = zone === 'GMT' && offset === 0 ? 'UTC' : zone;
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())} ` +
    `${sign}${p(Math.floor(abs / 60))}${p(abs % 60)} ${zoneName}`
  );
}

/** formatter.DisplayablePorts: sorted, consecutive ports grouped into ranges. */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, start: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0] as string;
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0] as string;
      type = parts[1] as string;
    }
    let group = String(start);
    if (start !== last) group = `${group}-${last}`;
    if (ip !== '') group = `${ip}:${group}->${group}`;
    return `${group}/${type}`;
  };
  for (const port of sorted) {
    const current = port.PrivatePort;
    let key: string = port.Type;
    if (port.IP) {
      if (port.PublicPort !== current) {
        const host = port.IP.includes(':') ? `[${port.IP}]` : port.IP;
        hostMappings.push(`${host}:${port.PublicPort ?? 0}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === group.last + 1) {
      group.last = current;
      continue;
    }
    result.push(formGroup(key, group.first, group.last));
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  result.push(...hostMappings);
  return result.join(', ');
}

export interface ContainerRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Size: string;
  Names: string;
  Labels: string;
  Mounts: string;
  LocalVolumes: string;
  Networks: string;
  Label: (name: string) => string;
}

/** One ContainerContext per container (docker's `ps` rows). */
export function containerRow(c: ContainerSummary, opts: { trunc: boolean; now: number }): ContainerRow {
  const { trunc } = opts;
  let names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  if (trunc) {
    const primary = names.find((n) => !n.includes('/'));
    if (primary !== undefined) names = [primary];
  }
  let image = c.Image || '<no image>';
  if (trunc && c.Image) {
    if (truncateId(c.ImageID ?? '') === truncateId(c.Image)) image = truncateId(c.Image);
    else {
      // A digest is dropped; name[:tag] is shown in its familiar form.
      const at = c.Image.indexOf('@');
      image = familiarName(at >= 0 ? c.Image.slice(0, at) : c.Image);
    }
  }
  const labels = c.Labels ?? {};
  const srw = humanSize(c.SizeRw ?? 0, 3);
  const size = (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSize(c.SizeRootFs ?? 0, 3)})` : srw;
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name ? m.Name : m.Source;
    return trunc ? ellipsis(name, 15) : name;
  });
  return {
    Command: goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: goTimeString(new Date(c.Created * 1000)),
    ID: trunc ? truncateId(c.Id) : c.Id,
    Image: image,
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: mounts.join(','),
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(','),
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: `${humanDuration(opts.now - c.Created * 1000)} ago`,
    Size: size,
    State: c.State,
    Status: c.Status,
    Label: (name: string) => labels[name] ?? '',
  };
}

export interface ImageRow {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
  VirtualSize: string;
  SharedSize: string;
  UniqueSize: string;
}

function isDangling(i: ImageSummary): boolean {
  const tags = i.RepoTags ?? [];
  const digests = i.RepoDigests ?? [];
  return (
    (tags.length === 0 || (tags.length === 1 && tags[0] === '<none>:<none>')) &&
    (digests.length === 0 || (digests.length === 1 && digests[0] === '<none>@<none>'))
  );
}

/** imageFormat: one row per repository:tag (and per digest with --digests). */
export function imageRows(
  images: ImageSummary[],
  opts: { trunc: boolean; digests: boolean; now: number },
): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const make = (repo: string, tag: string, digest: string): ImageRow => {
      const size = image.Size ?? 0;
      const shared = image.SharedSize ?? -1;
      return {
        Containers:
          image.Containers === -1 || image.Containers === undefined ? 'N/A' : String(image.Containers),
        CreatedAt: goTimeString(new Date(image.Created * 1000)),
        CreatedSince: `${humanDuration(opts.now - image.Created * 1000)} ago`,
        Digest: digest,
        ID: opts.trunc ? truncateId(image.Id) : image.Id,
        Repository: repo,
        SharedSize: shared === -1 ? 'N/A' : humanSize(shared, 3),
        Size: humanSize(size, 3),
        Tag: tag,
        UniqueSize: shared === -1 ? 'N/A' : humanSize(size - shared, 3),
        VirtualSize: humanSize(image.VirtualSize ?? size, 3),
      };
    };
    if (isDangling(image)) {
      rows.push(make('<none>', '<none>', '<none>'));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const ref of image.RepoTags ?? []) {
      const at = ref.lastIndexOf(':');
      if (at <= ref.lastIndexOf('/')) continue;
      const repo = familiarName(ref.slice(0, at));
      repoTags.set(repo, [...(repoTags.get(repo) ?? []), ref.slice(at + 1)]);
    }
    for (const ref of image.RepoDigests ?? []) {
      const at = ref.indexOf('@');
      if (at < 0) continue;
      const repo = familiarName(ref.slice(0, at));
      repoDigests.set(repo, [...(repoDigests.get(repo) ?? []), ref.slice(at + 1)]);
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!opts.digests) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) rows.push(make(repo, tag, '<none>'));
        else for (const d of digests) rows.push(make(repo, tag, d));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push(make(repo, '<none>', d));
      else rows.push(make(repo, '<none>', ''));
    }
  }
  return rows;
}
