/**
 * Error codes of offline work on recordings: reading a recording's streams back as blocks,
 * replay and training (docs/errors.md, "train").
 */
export const TrainCodes = {
  /** The recording lacks a stream the command needs (raw EMG, its blocks companion, predictions, actuators). */
  noStream: 'E_REC_NO_STREAM',
  /** The recording has no tracker data, so it cannot give training targets. */
  noTracker: 'E_REC_NO_TRACKER',
  /** A stream's samples and its blocks companion disagree (counts, columns): the file is damaged or not Reflex's. */
  blocks: 'E_REC_BLOCKS',
  /** Channel counts or rates differ between a recording and the model, or between recordings. */
  shape: 'E_REC_SHAPE',
  /** An output name the recording's tracker (or prediction stream) lacks. */
  output: 'E_REC_OUTPUT',
  /** The run's settings replay needs (model, actuators, output map, loop rate) are not in the recording and were not given. */
  runFacts: 'E_REPLAY_RUN',
  /** The recording cannot be replayed: a prediction's window end matches no feature block, or the model changed during the run. */
  replay: 'E_REPLAY',
  /** Training options are out of range, or too few valid (window, target) pairs remain to train and validate. */
  options: 'E_TRAIN_OPTIONS',
  /** The output model directory exists: pass --force to replace it. */
  outExists: 'E_TRAIN_OUT_EXISTS',
  /** A file given as a reflex-bridge-host offline recording is not one. */
  simfile: 'E_SIMFILE',
} as const;
