import { loadTrainingData, TextEnsemble, DEFAULT_TEXT_ENSEMBLE_OPTIONS } from '@app/ml';
async function main() {
  const { data } = loadTrainingData('../shared/data/rakuten');
  const rows = [...data.products, ...data.extraText].filter((e) => e.label !== undefined);
  const classes = [...new Set(rows.map((e) => e.label!))].sort((a, b) => a - b);
  const idx = new Map(classes.map((c, i) => [c, i]));
  const t = Date.now();
  const c0 = process.cpuUsage();
  await TextEnsemble.train(rows.map(({ designation, description }) => ({ designation, description })), rows.map((e) => idx.get(e.label!)!), classes.length,
    { ...DEFAULT_TEXT_ENSEMBLE_OPTIONS, neuralModels: Number(process.env.NN ?? 1), linearViews: (process.env.LV ?? '').split(',').filter(Boolean) as any }, console.log, (m, p) => console.log(m, p.epoch, p.seconds));
  const c = process.cpuUsage(c0);
  console.log('wall', (Date.now() - t) / 1000, 'cpu', (c.user + c.system) / 1e6);
}
main();
