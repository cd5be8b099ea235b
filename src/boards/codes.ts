/** Error codes of board definitions (docs/errors.md, "boards"). */
export const BoardCodes = {
  /** No board file with this id or path. */
  unknown: 'E_BOARD_UNKNOWN',
} as const;
