export { startS3rver, type S3rverFixture } from './s3rver.fixture';
