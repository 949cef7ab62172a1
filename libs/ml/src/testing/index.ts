export { FIXTURE_CLASSES, fixtureJpeg, fixtureTexts, writeFixtureDataset } from './fixture-dataset';
export { trainFixtureModel } from './fixture-model';
export { imageClaimingSize, type OversizedFormat } from './oversized-images';
