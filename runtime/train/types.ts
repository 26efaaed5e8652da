// Types of the trainer (runtime/train/trainer.ts): datasets as flat Float32Arrays, fit options,
// and the records it reports per step and per epoch. Kept apart so tools and devices can type
// their callbacks without pulling in the trainer.
import type { ScheduleConfig } from '../optim/schedule.js';

/** N samples, row-major: x is [N, ...sampleDims], y is [N] (class indices) or [N, ...targetDims]. */
export interface Dataset {
  readonly x: Float32Array;
  readonly sampleDims: readonly number[];
  readonly y: Float32Array | Int32Array;
  /** floats of y per sample: 1 for class indices */
  readonly targetFloats: number;
  readonly n: number;
}

export interface EarlyStopping {
  /** epochs without improvement of the monitored loss before stopping */
  readonly patience: number;
  /** an improvement must lower the loss by more than this */
  readonly minDelta?: number;
  /** default 'val_loss' when a validation set exists, else 'loss' */
  readonly monitor?: 'loss' | 'val_loss';
  /** restore the best parameters when stopping (default true) */
  readonly restoreBest?: boolean;
}

export interface FitOptions {
  readonly epochs: number;
  /** mini-batch size (<= the model's maxBatch); the last batch of an epoch may be smaller */
  readonly batchSize: number;
  /** shuffle each epoch with a seeded generator (default true); false = fixed order */
  readonly shuffle?: boolean;
  readonly seed?: number;
  /** fraction of samples held out for validation (taken after a seeded shuffle), 0 = none */
  readonly validationSplit?: number;
  /** or an explicit validation set */
  readonly validation?: Dataset;
  readonly earlyStopping?: EarlyStopping;
  /** learning-rate schedule (the optimizer's lr is the base rate) */
  readonly schedule?: ScheduleConfig;
  /** clip the global gradient norm to this value before each update */
  readonly clipGradNorm?: number;
  /** every N optimizer steps, compute training-health signals (0 = never; default 0) */
  readonly healthEvery?: number;
  /** called after every optimizer step with a record reused between calls (copy what you keep) */
  readonly onStep?: (r: Readonly<StepRecord>) => void;
  readonly onEpoch?: (r: Readonly<EpochRecord>) => void;
  /** save a checkpoint (atomically) to this path after every epoch */
  readonly checkpointPath?: string;
  /** stop when a loss becomes NaN/Inf (default true): reported as stopReason 'non-finite' */
  readonly stopOnNonFinite?: boolean;
}

export interface LayerHealth {
  /** parameter name (e.g. '0.weight') */
  readonly param: string;
  readonly gradNorm: number;
}

export interface HealthRecord {
  readonly gradNormTotal: number;
  readonly layers: readonly LayerHealth[];
  /** per activation node: fraction of dead ReLU units or saturated sigmoid/tanh outputs */
  readonly activations: readonly { readonly node: string; readonly kind: 'dead' | 'sat-sigmoid' | 'sat-tanh'; readonly fraction: number }[];
}

export interface StepRecord {
  step: number;
  epoch: number;
  /** index of the batch inside the epoch */
  batch: number;
  /** loss of this batch before the update */
  loss: number;
  /** accuracy of this batch before the update (class-index targets only, else NaN) */
  accuracy: number;
  lr: number;
  batchSize: number;
  /** global gradient norm before clipping (NaN unless clipping or health was computed) */
  gradNorm: number;
  /** present on steps where health was computed */
  health: HealthRecord | null;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly steps: number;
  /** mean training loss over the epoch's batches (weighted by batch size) */
  readonly loss: number;
  readonly accuracy: number;
  readonly valLoss: number | null;
  readonly valAccuracy: number | null;
  readonly lr: number;
  readonly seconds: number;
}

export interface FitResult {
  readonly epochs: readonly EpochRecord[];
  readonly steps: number;
  readonly stopReason: 'completed' | 'early-stopping' | 'non-finite';
  readonly bestEpoch: number;
}
