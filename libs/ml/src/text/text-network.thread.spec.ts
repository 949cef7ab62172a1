import type { EpochProgress } from '../runtime/epoch-progress.types';
import { SeededRandom } from '../runtime/random.util';
import { trainNetworkInThread } from './text-network.thread';
import { TextClassifier } from './text.classifier';

const WORDS = [
  ['piscine', 'pompe', 'filtre', 'bache'],
  ['manette', 'console', 'jeu', 'cartouche'],
  ['roman', 'livre', 'auteur', 'tome'],
];

function texts(count: number, seed: number) {
  const rng = new SeededRandom(seed);
  const labels = Array.from({ length: count }, (_, i) => i % WORDS.length);
  const word = (label: number) => WORDS[rng.next() < 0.8 ? label : rng.int(WORDS.length)][rng.int(4)];
  return {
    texts: labels.map((label) => ({
      designation: `${word(label)} ${word(label)}`,
      description: rng.next() < 0.5 ? `${word(label)} neuf` : '',
    })),
    labels,
  };
}

describe('trainNetworkInThread', () => {
  const train = texts(150, 1);
  const options = { seed: 3, hidden: 8, epochs: 3, patience: 3 };

  it('trains the network the calling thread would, and reports its epochs', async () => {
    const epochs: EpochProgress[] = [];
    const threaded = await trainNetworkInThread(
      { texts: train.texts, labels: train.labels, numClasses: 3, options },
      (p) => epochs.push(p),
    );
    const here = await TextClassifier.train(train.texts, train.labels, 3, options);
    expect(epochs.map((p) => p.epoch)).toEqual([1, 2, 3]);
    const probe = texts(20, 2).texts;
    expect(Array.from(threaded.predictProba(probe))).toEqual(Array.from(here.predictProba(probe)));
  }, 60_000);

  it('rejects with the thread error when training fails', async () => {
    await expect(
      trainNetworkInThread({ texts: train.texts, labels: train.labels.slice(1), numClasses: 3, options }),
    ).rejects.toThrow('text network thread: 150 texts but 149 labels');
  }, 60_000);
});
