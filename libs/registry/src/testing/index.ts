export { writeModelDirectory } from './model-directory.fixture';
