export { FIXTURE_CLASSES, fixtureJpeg, fixtureTexts, writeFixtureDataset } from './dataset.fixture';
export { trainFixtureModel } from './model.fixture';
export { imageClaimingSize, type OversizedFormat } from './oversized-images.fixture';
