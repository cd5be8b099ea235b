/** Model loading, backend chain and the compiled kernel: see docs/predictor.md. */
export { Predictor, type PredictorInfo, type PredictorMode, type PredictorOptions, type PredictorPath } from './predictor.js';
export { type BackendChoice, type BackendName, DEFAULT_BACKENDS, resetBackendChoice, selectBackend } from './backend.js';
export { assembleKernel, compileLayersModel, type CompiledKernel, type CompileResult, verifyCompiled } from './compile.js';
export { type KernelSpec, kernelFromSpec, kernelSpec, kernelTransferList } from './kernel-spec.js';
export { KernelPredictor, type ModelScaling, scalingOf } from './scaling.js';
export { META_FILE, readModelMeta, type ReflexModelMeta, validateModelMeta } from './metadata.js';
export { checkModelDir, checkWeightFiles, MODEL_FILE, type ModelDirCheck } from './model-dir.js';
export { fileLoadHandler, fileSaveHandler } from './io.js';
export { ModelError, type ModelErrorCode, PredictorError } from './errors.js';
