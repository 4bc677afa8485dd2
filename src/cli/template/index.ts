/** The Go template port lives in common/template (the daemon renders json-file's log tag with it). */
export * from '../../common/template/index.ts';
