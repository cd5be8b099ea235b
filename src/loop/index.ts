/** The fixed-period control loop: see docs/loop.md. */
export { ControlLoop, type ControlLoopOptions, type LoopOutput, type SwapCheck, type SwapResult, workerUrl } from './loop.js';
export { checkSwap, type SwapRequirements } from './swap-check.js';
export { type VerifiedModel, verifyModelForSwap } from './model-verify.js';
export { entryUrl, startWorker } from '../core/worker.js';
export type { PredictorSpec, PredictorReport } from './messages.js';
export { DeadlineSchedule, type OverrunPolicy, type ScheduleOptions, sleepBudgetMs, validateScheduleOptions } from './schedule.js';
export { emptyStats, type LoopStatsSnapshot, StatsReader, StatsWriter } from './stats.js';
export { ControlCore, type ControlCoreOptions, type CorePredictor } from './core.js';
export { LoopRunner } from './runner.js';
export { SAFETY_REASONS, type SafetyEvent, type SafetyReason, Watchdog, type WatchdogOptions } from './watchdog.js';
export { installSafetyHandlers, type GuardOptions, type SafeTarget } from './guard.js';
export { applyThreadPriority, type PriorityReport, type ThreadPriority } from './priority.js';
export { WorkerDriver } from './drive.js';
export { WriteLog } from './write-log.js';
