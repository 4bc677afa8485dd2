/**
 * API version negotiation exactly as dockerd's VersionMiddleware (moby api/server/middleware/version.go):
 * a URL without `/v{version}` means the current version; a version above the current one or below
 * the minimum is a 400 with Docker's words, which clients show to users.
 */

import { invalidParameter } from '../../common/index.ts';
import { API_VERSION_CURRENT, API_VERSION_MIN, compareApiVersions } from '../types/index.ts';

/** The version a request is served at, or an InvalidParameter error for versions out of range. */
export function effectiveApiVersion(urlVersion: string | undefined): string {
  const version = urlVersion === undefined || urlVersion === '' ? API_VERSION_CURRENT : urlVersion;
  if (compareApiVersions(version, API_VERSION_MIN) < 0) {
    throw invalidParameter(
      `client version ${version} is too old. Minimum supported API version is ${API_VERSION_MIN}, please upgrade your client to a newer version`,
    );
  }
  if (compareApiVersions(version, API_VERSION_CURRENT) > 0) {
    throw invalidParameter(
      `client version ${version} is too new. Maximum supported API version is ${API_VERSION_CURRENT}`,
    );
  }
  return version;
}

/** True when `version` is at least `min` (moby versions.GreaterThanOrEqualTo). */
export function versionAtLeast(version: string, min: string): boolean {
  return compareApiVersions(version, min) >= 0;
}

/**
 * The headers every response carries, with Go's canonical casing as dockerd sends them
 * (`API-Version` is written `Api-Version`, `OSType` is written `Ostype`): the version and
 * experimental middlewares set them before routing, so errors carry them too.
 */
export function commonHeaders(serverVersion: string, experimental = false): Record<string, string> {
  return {
    'Api-Version': API_VERSION_CURRENT,
    'Docker-Experimental': String(experimental),
    Ostype: 'linux',
    Server: `Docker/${serverVersion} (linux)`,
  };
}
