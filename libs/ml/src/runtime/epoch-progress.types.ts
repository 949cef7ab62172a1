/** What every trainable model reports after each epoch, for progress lines and the model card. */
export interface EpochProgress {
  epoch: number;
  loss: number;
  valWeightedF1: number;
  seconds: number;
}
