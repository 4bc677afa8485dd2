export type { CliContext, CliIo } from './context.ts';
export { ExitError, UsageError } from './errors.ts';
export { buildProgram, reportError, runCli } from './program.ts';
