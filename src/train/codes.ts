/** Error codes of training (docs/errors.md, "train"). */
export const TrainCodes = {
  /** The host firmware binary that synthesises training data is not built. */
  noSim: 'E_TRAIN_NO_SIM',
  /** A file given as a reflex-bridge-host offline recording is not one. */
  simfile: 'E_SIMFILE',
} as const;
