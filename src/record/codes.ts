/**
 * Error codes of recordings: the XDF writer and reader, the recorder and export
 * (docs/errors.md, "record"). Replay and train add theirs here too.
 */
export const RecordCodes = {
  /** The file is empty: nothing was ever written to it. */
  xdfEmpty: 'E_XDF_EMPTY',
  /** The file does not start with "XDF:": it is not an XDF recording. */
  xdfForeign: 'E_XDF_FOREIGN',
  /** The file starts as XDF but a chunk before its end is malformed (the message names the byte offset). */
  xdfCorrupt: 'E_XDF_CORRUPT',
  /** A stream uses a channel format Reflex does not read (int8, int16, int64). */
  xdfFormat: 'E_XDF_FORMAT',
  /** Refusing to overwrite an existing file; pass --force to replace it. */
  exists: 'E_RECORD_EXISTS',
  /** An output file or directory cannot be created or written. */
  output: 'E_RECORD_OUTPUT',
  /** The file cannot be opened or read. */
  read: 'E_RECORD_READ',
  /** The recorder was used after close(), or writing a chunk failed. */
  write: 'E_RECORD_WRITE',
} as const;
