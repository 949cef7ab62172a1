import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProductClassifier } from '@app/ml';
import { numberOption, parseCommandLine, requireOption, runCli, UsageError } from './cli-runner.util';

const USAGE = `Usage: npm run predict -- --model DIR --designation TEXT [--description TEXT] [--image FILE] [--top K]
Prints the predicted product type code with its probability and the top K classes as JSON.`;

runCli(USAGE, async () => {
  const args = parseCommandLine(USAGE, {
    model: { type: 'string' },
    designation: { type: 'string' },
    description: { type: 'string' },
    image: { type: 'string' },
    top: { type: 'string' },
  });
  const modelDir = resolve(requireOption(args.model, 'model', USAGE));
  if (!args.designation && !args.image)
    throw new UsageError(`give --designation TEXT or --image FILE\n\n${USAGE}`);
  let image: Buffer | undefined;
  if (args.image) {
    try {
      image = readFileSync(resolve(args.image));
    } catch (error) {
      throw new UsageError(`cannot read --image ${args.image}: ${(error as Error).message}`);
    }
  }
  const classifier = await ProductClassifier.load(modelDir);
  const [prediction] = await classifier.predict(
    [{ designation: args.designation, description: args.description, image }],
    numberOption(args.top, 'top', 5),
  );
  classifier.dispose();
  process.stdout.write(`${JSON.stringify(prediction, null, 2)}\n`);
});
