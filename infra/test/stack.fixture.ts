import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readSettings } from '../lib/infra-settings';
import { ProductClassifierStack } from '../lib/product-classifier.stack';

export const EXAMPLE_CONTEXT = {
  certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/example',
  githubRepository: 'example-org/product-classifier',
};

/** The stack as `cdk synth` builds it, with the given context on top of the example values. */
export function synthesize(context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...EXAMPLE_CONTEXT, ...context } });
  const stack = new ProductClassifierStack(app, 'ProductClassifier', { settings: readSettings(app) });
  return { app, stack, template: Template.fromStack(stack) };
}
