export {
  BLOCK_SIZE,
  decodeHeaderBlock,
  entryType,
  type TarEntryType,
  TarFormatError,
  type TarHeader,
  type TarHeaderInput,
  TYPEFLAG,
} from './header.ts';
export { formatPaxRecord, formatPaxRecords, parsePaxRecords } from './pax.ts';
export { type ReadTarOptions, readEntryBody, readTar, type TarEntry, TarTruncatedError } from './read.ts';
export { encodeHeader, packTar, splitUstarPath, type TarWriteEntry, tarChunks } from './write.ts';
