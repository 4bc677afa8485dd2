/**
 * Just enough of distribution/reference for the CLI's messages: split `name[:tag][@digest]` and
 * print the familiar form with the default tag (`busybox` → `busybox:latest`,
 * `docker.io/library/busybox` → `busybox:latest`). The daemon does the real normalisation.
 */

export interface SplitRef {
  name: string;
  tag?: string;
  digest?: string;
}

export function splitImageRef(ref: string): SplitRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const out: SplitRef = { name: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** The familiar name: `docker.io/` and `library/` prefixes dropped, as docker prints names. */
export function familiarName(name: string): string {
  let n = name;
  if (n.startsWith('docker.io/')) n = n.slice('docker.io/'.length);
  else if (n.startsWith('index.docker.io/')) n = n.slice('index.docker.io/'.length);
  if (n.startsWith('library/') && n.split('/').length === 2) n = n.slice('library/'.length);
  return n;
}

/** reference.FamiliarString(reference.TagNameOnly(ref)). */
export function familiarWithDefaultTag(ref: string): string {
  const r = splitImageRef(ref);
  const name = familiarName(r.name);
  if (r.digest) return `${name}${r.tag ? `:${r.tag}` : ''}@${r.digest}`;
  return `${name}:${r.tag ?? 'latest'}`;
}
