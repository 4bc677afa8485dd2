export * from './instructions.ts';
export * from './parse.ts';
export * from './shell-lex.ts';
