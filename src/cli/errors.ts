/**
 * How the CLI ends. Commands throw; program.ts turns the error into docker's text on stderr and
 * an exit status (docker/cli cmd/docker/docker.go: 1 by default, 125 for usage errors and for
 * run/create failures before the container's process runs, the container's own status for run).
 */

/** Exit with `status`; print `message` to stderr first when there is one. */
export class ExitError extends Error {
  readonly status: number;
  readonly printed: boolean;

  constructor(status: number, message = '') {
    super(message);
    this.name = 'ExitError';
    this.status = status;
    this.printed = message === '';
  }
}

/** A usage error (unknown flag, missing argument…), already formatted as docker prints it. */
export class UsageError extends Error {
  readonly status = 125;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
