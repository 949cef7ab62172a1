export {
  SYNTHETIC_CLASSES,
  SYNTHETIC_DEFAULTS,
  syntheticReference,
  syntheticRows,
  syntheticWindow,
  type SyntheticRowOptions,
} from './synthetic-reference.fixture';
