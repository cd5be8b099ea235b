/** Model loading, backend chain and the compiled kernel: see docs/predictor.md. */
export { Predictor, type PredictorInfo, type PredictorMode, type PredictorOptions, type PredictorPath } from './predictor.js';
export { type BackendChoice, type BackendName, DEFAULT_BACKENDS, resetBackendChoice, selectBackend } from './backend.js';
export { compileLayersModel, type CompiledKernel, type CompileResult, verifyCompiled } from './compile.js';
export { META_FILE, readModelMeta, type ReflexModelMeta, validateModelMeta } from './metadata.js';
export { fileLoadHandler, fileSaveHandler } from './io.js';
export { ModelError, type ModelErrorCode } from './errors.js';
