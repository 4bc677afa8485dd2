import { invalidParameter } from '../common/index.ts';

/**
 * Docker image references, parsed and normalised as distribution/reference does
 * (reference.go, regexp.go, normalize.go): `busybox` is `docker.io/library/busybox`, and
 * `busybox:latest` is its familiar form. The grammar:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] remote-name
 *   domain     := host [':' port-number]
 *   tag        := /[\w][\w.-]{0,127}/
 *   digest     := algorithm ":" hex
 *
 * Errors are InvalidParameter with distribution's wording, which the docker CLI prints as is.
 */
export interface NamedReference {
  /** `docker.io`, `localhost:5000`, `[::1]:5000`; empty only for unnormalised parses. */
  domain: string;
  /** The remote name: `library/busybox`, `a/b`. */
  path: string;
  tag?: string;
  digest?: string;
}

/** A bare content reference: a full image ID given as 64 hex or `sha256:<hex>`. */
export interface DigestReference {
  digest: string;
}

// regexp.go, rewritten with JavaScript syntax; Go's RE2 and JavaScript both pick the
// leftmost-first alternative, so matches agree.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
const identifier = '([a-f0-9]{64})';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredNameRe = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredTagRe = new RegExp(`^${tagPat}$`);
const anchoredIdentifierRe = new RegExp(`^${identifier}$`);

const legacyDefaultDomain = 'index.docker.io';
export const defaultDomain = 'docker.io';
const officialRepoPrefix = 'library/';
export const defaultTag = 'latest';
const repositoryNameTotalLengthMax = 255;

const digestLengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's Parse: a registered algorithm and a hex part of the right length. */
function validateDigest(d: string): string {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) throw invalidParameter('invalid checksum digest format');
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  const len = digestLengths[alg];
  if (len === undefined) throw invalidParameter('unsupported digest algorithm');
  if (hex.length !== len) throw invalidParameter('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw invalidParameter('invalid checksum digest format');
  return d;
}

/** reference.Parse: the syntax only, no normalisation. Digest-only references are rejected. */
export function parseReference(s: string): NamedReference {
  if (s === '') throw invalidParameter('repository name must have at least one component');
  const m = referenceRe.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && referenceRe.test(lower)) throw invalidParameter('repository name must be lowercase');
    throw invalidParameter('invalid reference format');
  }
  const name = m[1] ?? '';
  const nm = anchoredNameRe.exec(name);
  const ref: NamedReference = nm ? { domain: nm[1] ?? '', path: nm[2] ?? '' } : { domain: '', path: name };
  if (ref.path.length > repositoryNameTotalLengthMax) {
    throw invalidParameter(
      `repository name must not be more than ${repositoryNameTotalLengthMax} characters`,
    );
  }
  if (m[2]) ref.tag = m[2];
  if (m[3]) ref.digest = validateDigest(m[3]);
  return ref;
}

/** normalize.go splitDockerDomain: which part of a familiar name is a registry host. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: defaultDomain, remainder: officialRepoPrefix + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === 'localhost') {
    domain = maybeDomain;
    remainder = maybeRemote;
  } else if (maybeDomain === legacyDefaultDomain) {
    domain = defaultDomain;
    remainder = maybeRemote;
  } else if (/[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    // A host or IP (has "." or ":"), or uppercase, which a namespace may not be.
    domain = maybeDomain;
    remainder = maybeRemote;
  } else {
    domain = defaultDomain;
    remainder = name;
  }
  if (domain === defaultDomain && !remainder.includes('/')) remainder = officialRepoPrefix + remainder;
  return { domain, remainder };
}

/**
 * ParseNormalizedNamed: a familiar or full name to its canonical form
 * (`busybox` → docker.io/library/busybox). Tag and digest are kept as given; use
 * tagNameOnly() to add `latest`.
 */
export function parseNormalizedNamed(s: string): NamedReference {
  if (anchoredIdentifierRe.test(s)) {
    throw invalidParameter(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalidParameter(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseReference(`${domain}/${remainder}`);
}

/**
 * ParseAnyReference: a full ID (64 hex, or `sha256:<hex>`) becomes a DigestReference, anything
 * else is parsed as a normalised name.
 */
export function parseAnyReference(s: string): NamedReference | DigestReference {
  if (anchoredIdentifierRe.test(s)) return { digest: `sha256:${s}` };
  if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(s)) {
    try {
      return { digest: validateDigest(s) };
    } catch {
      // not a digest: parse as a name, as go-digest failing makes Docker do
    }
  }
  return parseNormalizedNamed(s);
}

export function isNamedReference(r: NamedReference | DigestReference): r is NamedReference {
  return 'path' in r;
}

/** TagNameOnly: adds the `latest` tag to a reference with neither tag nor digest. */
export function tagNameOnly(ref: NamedReference): NamedReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: defaultTag } : ref;
}

/** WithTag: the same repository with `tag`, validated; any digest is dropped. */
export function withTag(ref: NamedReference, tag: string): NamedReference {
  if (!anchoredTagRe.test(tag)) throw invalidParameter('invalid tag format');
  return { domain: ref.domain, path: ref.path, tag };
}

/** WithDigest: the same repository with `digest`; any tag is dropped (a canonical reference). */
export function withDigest(ref: NamedReference, digest: string): NamedReference {
  return { domain: ref.domain, path: ref.path, digest: validateDigest(digest) };
}

/** The repository name: `docker.io/library/busybox`. */
export function referenceName(ref: NamedReference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** The full string: `docker.io/library/busybox:latest@sha256:…`. */
export function referenceString(ref: NamedReference): string {
  return referenceName(ref) + suffix(ref);
}

/** FamiliarName: `busybox`, `user/app`, `localhost:5000/a`. */
export function familiarName(ref: NamedReference): string {
  let { domain, path } = ref;
  if (domain === defaultDomain) {
    domain = '';
    if (path.startsWith(officialRepoPrefix)) {
      const rest = path.slice(officialRepoPrefix.length);
      if (!rest.includes('/')) path = rest;
    }
  }
  return domain ? `${domain}/${path}` : path;
}

/** FamiliarString: `busybox:latest`, `localhost:5000/a:tag`, `busybox@sha256:…`. */
export function familiarString(ref: NamedReference): string {
  return familiarName(ref) + suffix(ref);
}

function suffix(ref: NamedReference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/**
 * ParseDockerRef: normalised, and either tagged or digested: `name:tag@digest` keeps only the
 * digest, a bare name gets `latest`.
 */
export function parseDockerRef(s: string): NamedReference {
  const ref = parseNormalizedNamed(s);
  if (ref.tag !== undefined && ref.digest !== undefined) return withDigest(ref, ref.digest);
  return tagNameOnly(ref);
}
