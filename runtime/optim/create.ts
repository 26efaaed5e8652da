// createOptimizer: the one entry from a config record (a trainer option, a checkpoint, a CLI
// file) to an Optimizer. Validation lives with each optimizer (resolveSgdConfig,
// resolveAdamConfig); this file only checks the record's shape and dispatches on `kind`.
import type { Optimizer, OptimizerConfig } from './optimizer.js';
import { SgdOptimizer } from './sgd.js';
import { AdamOptimizer } from './adam.js';
import { EdgennError } from '../errors.js';

/** Builds an optimizer, torch defaults filled in; throws EdgennError('ARG') naming the bad option.
 *  `createOptimizer(opt.config())` rebuilds an equivalent optimizer (for checkpoints). */
export function createOptimizer(cfg: OptimizerConfig): Optimizer {
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) {
    throw new EdgennError('ARG', 'optimizer: the config must be an object', {
      expected: "{ kind: 'sgd' | 'adam' | 'adamw', lr, ... }", actual: String(cfg),
    });
  }
  const kind = cfg.kind;
  switch (kind) {
    case 'sgd': return new SgdOptimizer(cfg);
    case 'adam':
    case 'adamw': return new AdamOptimizer(cfg);
    default: {
      const never: never = kind;
      throw new EdgennError('ARG', "optimizer: invalid option 'kind'", {
        expected: "'sgd', 'adam' or 'adamw'", actual: String(never),
      });
    }
  }
}
