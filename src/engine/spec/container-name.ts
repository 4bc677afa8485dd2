/**
 * Container name rules (moby daemon/names.go: validContainerNamePattern). A name may be given
 * with or without its leading '/'; Docker stores and shows it with the slash (`/web`).
 */
import { invalidParameter } from '../../common/index.ts';

const VALID_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const VALID_NAME = new RegExp(`^/?${VALID_NAME_CHARS}+$`);

/**
 * Checks a user-supplied container name and returns it in stored form (`/name`).
 * Throws InvalidParameter with Docker's text:
 * `Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`.
 */
export function validateContainerName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw invalidParameter(`Invalid container name (${name}), only ${VALID_NAME_CHARS} are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

/** True when `name` is acceptable as a container name. */
export function isValidContainerName(name: string): boolean {
  return VALID_NAME.test(name);
}
