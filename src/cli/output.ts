/**
 * Rendering list and object output through the Go template port in ./template (loaded only
 * when a command prints something formatted): docker's `--format` values (`table`, `table
 * TEMPLATE`, `json`, `TEMPLATE`) and tab-aligned columns.
 */
import type { CliContext } from './context.ts';
import { ExitError } from './errors.ts';

export interface ListFormat {
  /** The user's --format, or undefined for the default. */
  format?: string;
  /** docker's default table format for this list (`table {{.ID}}\t{{.Image}}…`). */
  defaultTable: string;
  /** Field name → column title for the header row. */
  headers: Record<string, string>;
}

/** The format docker would use: the user's, `table` expanded to the default table. */
export function effectiveFormat(f: ListFormat): string {
  const format = f.format ?? '';
  if (format === '' || format === 'table') return f.defaultTable;
  return format;
}

/** Renders `rows` per docker's formatter.Context; template errors exit 1 with docker's text. */
export async function renderList(rows: unknown[], f: ListFormat): Promise<string> {
  const { formatTable } = await import('./template/index.ts');
  try {
    return formatTable(effectiveFormat(f), rows, f.headers);
  } catch (err) {
    throw templateExit(err);
  }
}

/** `--format` for one object (inspect, version, info): the template on `data`, plus a newline. */
export async function renderObject(format: string, data: unknown): Promise<string> {
  const { parseTemplate, templateTextOf } = await import('./template/index.ts');
  try {
    const text = format === 'json' ? '{{json .}}' : templateTextOf(format);
    return `${parseTemplate(text).execute(data)}\n`;
  } catch (err) {
    throw templateExit(err);
  }
}

function templateExit(err: unknown): unknown {
  if (err instanceof Error && err.name === 'TemplateError') {
    const message = err.message.startsWith('template parsing error')
      ? err.message
      : `template parsing error: ${err.message}`;
    return new ExitError(1, message);
  }
  return err;
}

/** Aligns tab-separated lines like Go's tabwriter with the given settings. */
export async function renderTabbed(
  lines: string[],
  s: { minWidth: number; tabWidth: number; padding: number },
): Promise<string> {
  const { TabWriter } = await import('./template/index.ts');
  const tw = new TabWriter(s.minWidth, s.tabWidth, s.padding, ' ', 0);
  for (const line of lines) tw.write(`${line}\n`);
  return tw.flush();
}

/** Writes rendered text to stdout. */
export function write(ctx: CliContext, text: string): void {
  if (text) ctx.io.stdout.write(text);
}
