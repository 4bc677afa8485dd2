/**
 * A template failed to parse or to execute. The message is Go's text, e.g.
 * `template: :1: function "foo" not defined` or
 * `template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`.
 * Docker prints parse errors of `inspect --format` as `template parsing error: <message>`
 * and exits with status 64 (cli/command/inspect: cli.StatusError{StatusCode: 64}); other
 * commands (ps, images, ...) print the same prefix and exit with status 1.
 */
export class TemplateError extends Error {
  /** 'parse' for syntax errors, 'exec' for errors raised while executing. */
  readonly phase: 'parse' | 'exec';

  constructor(message: string, phase: 'parse' | 'exec', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateError';
    this.phase = phase;
  }
}
