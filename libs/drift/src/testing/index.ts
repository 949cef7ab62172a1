export {
  SYNTHETIC_CLASSES,
  SYNTHETIC_DEFAULTS,
  syntheticReference,
  syntheticRows,
  type SyntheticRowOptions,
} from './synthetic-reference.fixture';
