export { sha256, sha256File, sha256Stream, type StreamDigest } from './sha256.digest';
