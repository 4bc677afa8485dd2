/**
 * Docker's `--format` handling for list commands (docker/cli
 * cli/command/formatter.Context): `table ...` formats get a header row and
 * tabwriter alignment, `json` means `{{json .}}`, anything else is one
 * template per row. Every row ends with a newline.
 */
import { TemplateError } from './errors.ts';
import { dockerHeaderFuncs } from './funcs.ts';
import { TabWriter } from './tabwriter.ts';
import { parseTemplate, type TemplateOptions } from './template.ts';

/** True for formats Docker renders as a table (it only checks the prefix "table"). */
export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/**
 * The template text Docker executes for a --format value: "table" prefix and
 * surrounding spaces removed, "json" expanded, and the two-character sequences
 * `\t` and `\n` turned into a tab and a newline (so shell-quoted formats work).
 */
export function templateTextOf(format: string): string {
  let text = format;
  if (isTableFormat(format)) text = format.slice('table'.length);
  else if (format === 'json') text = '{{json .}}';
  text = text.replace(/^ +| +$/g, '');
  return text.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/**
 * Renders rows the way `docker ps --format FORMAT` does. For a table format the
 * template is also executed on `headers` (field name -> column title, e.g.
 * { ID: 'CONTAINER ID' }) with Docker's header functions, giving the header row;
 * a field without a title shows `<no value>`, as in Docker. Columns are aligned
 * with TabWriter(10, 1, 3, ' ', 0).
 *
 * Throws TemplateError with Docker's text `template parsing error: template: ...`
 * (docker prints it and exits with status 1) for parse and execution errors alike.
 */
export function formatTable(
  format: string,
  rows: unknown[],
  headers: Record<string, string>,
  options: TemplateOptions = {},
): string {
  const wrap = (e: unknown): never => {
    if (e instanceof TemplateError) {
      throw new TemplateError(`template parsing error: ${e.message}`, e.phase, { cause: e });
    }
    throw e;
  };
  let tmpl: ReturnType<typeof parseTemplate>;
  try {
    tmpl = parseTemplate(templateTextOf(format), options);
  } catch (e) {
    return wrap(e);
  }
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row) + '\n';
    } catch (e) {
      wrap(e);
    }
  }
  if (!isTableFormat(format)) return body;
  const tw = new TabWriter(10, 1, 3, ' ', 0);
  // Docker ignores header errors and keeps what was written before the failure.
  tw.write(tmpl.executePartial(headers, dockerHeaderFuncs).output);
  tw.write('\n');
  tw.write(body);
  return tw.flush();
}
