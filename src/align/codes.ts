/** Error codes of recording alignment (docs/errors.md, "align"). */
export const AlignCodes = {
  /** A training set cannot be built from the recording with these options. */
  dataset: 'E_DATASET',
} as const;
