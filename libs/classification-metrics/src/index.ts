export {
  argmaxRows,
  evaluateClassification,
  type ClassificationReport,
  type ClassMetrics,
} from './classification.metrics';
