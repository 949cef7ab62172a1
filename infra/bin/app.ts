import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from '../lib/infra-settings';
import { ProductClassifierStack } from '../lib/product-classifier.stack';

const app = new App();
// No `env`: the stack synthesizes offline, without credentials; `cdk deploy` takes the account and region of the
// profile it runs with.
new ProductClassifierStack(app, 'ProductClassifier', { settings: readSettings(app) });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
