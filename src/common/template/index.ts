/**
 * Go text/template for `--format`, with Docker's template functions and its
 * table/tabwriter output. Pure: no I/O.
 */
export { TemplateError } from './errors.ts';
export { goJson } from './funcs.ts';
export { formatValue, sprintf } from './go-fmt.ts';
export { formatTable, isTableFormat, templateTextOf } from './table.ts';
export {
  AlignRight,
  Debug,
  DiscardEmptyColumns,
  FilterHTML,
  StripEscape,
  stringWidth,
  TabIndent,
  TabWriter,
} from './tabwriter.ts';
export { parseTemplate, type Template, type TemplateOptions } from './template.ts';
