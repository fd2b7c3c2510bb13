// The official dataset files: names, sizes and published checksums (md5 as torchvision lists them, sha256
// as TFDS lists them), the mirrors to try in order, and the paper's normalisation constants. These are
// facts about the published files; a download or a hand-copied file is accepted only if it matches them.

export interface FileSpec {
  name: string; // file name inside <dataDir>/<dataset>/
  size?: number; // bytes, when published
  md5?: string;
  sha256?: string;
  optional?: boolean; // SVHN `extra`: fetched, verified and prepared only when asked for
}

export interface OfficialSpec {
  name: string;
  format: 'idx' | 'mat';
  mirrors: string[]; // base URLs, tried in order; a file's URL is base + file name
  files: FileSpec[];
  classes: number;
  inputShape: number[]; // [h, w, c]
  mean: number[];
  std: number[];
}

export const OFFICIAL: Record<'mnist' | 'fashion-mnist' | 'svhn', OfficialSpec> = {
  mnist: {
    name: 'mnist',
    format: 'idx',
    // yann.lecun.com has answered 403 since 2024; it stays last in case it comes back.
    mirrors: [
      'https://ossci-datasets.s3.amazonaws.com/mnist/', // torchvision
      'https://storage.googleapis.com/cvdf-datasets/mnist/', // TFDS
      'http://yann.lecun.com/exdb/mnist/',
    ],
    files: [
      { name: 'train-images-idx3-ubyte.gz', size: 9912422, md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873', sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
      { name: 'train-labels-idx1-ubyte.gz', size: 28881, md5: 'd53e105ee54ea40749a09fcbcd1e9432', sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
      { name: 't10k-images-idx3-ubyte.gz', size: 1648877, md5: '9fb629c4189551a2d022fa330f9573f3', sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
      { name: 't10k-labels-idx1-ubyte.gz', size: 4542, md5: 'ec29112dd5afa0611ce80d1b7f02629c', sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
    ],
    classes: 10,
    inputShape: [28, 28, 1],
    mean: [0.1307],
    std: [0.3081],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    format: 'idx',
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', // torchvision, TFDS
      'https://storage.googleapis.com/tensorflow/tf-keras-datasets/', // Keras
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/', // the authors' repo
    ],
    files: [
      { name: 'train-images-idx3-ubyte.gz', size: 26421880, md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
      { name: 'train-labels-idx1-ubyte.gz', size: 29515, md5: '25c81989df183df01b3e8a0aad5dffbe', sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
      { name: 't10k-images-idx3-ubyte.gz', size: 4422102, md5: 'bef4ecab320f06d8554ea6380940ec79', sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
      { name: 't10k-labels-idx1-ubyte.gz', size: 5148, md5: 'bb300cfdad3c16e7a12a480ee83cd310', sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
    ],
    classes: 10,
    inputShape: [28, 28, 1],
    mean: [0.286],
    std: [0.353],
  },
  svhn: {
    name: 'svhn',
    format: 'mat',
    mirrors: ['http://ufldl.stanford.edu/housenumbers/'], // the only official host (torchvision, TFDS)
    files: [
      { name: 'train_32x32.mat', size: 182040794, md5: 'e26dedcc434d2e4c54c9b2d4a06d8373', sha256: '435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8' },
      { name: 'test_32x32.mat', size: 64275384, md5: 'eb5a983be6a315427106f1b164d9cef3', sha256: 'cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b' },
      { name: 'extra_32x32.mat', size: 1329278602, md5: 'a93ce644f1a588dc4d68dda5feec44a7', sha256: 'a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3', optional: true },
    ],
    classes: 10,
    inputShape: [32, 32, 3],
    mean: [0.431, 0.43, 0.446],
    std: [0.197, 0.198, 0.199],
  },
};

export type OfficialName = keyof typeof OFFICIAL;

export function isOfficialName(name: string): name is OfficialName {
  return Object.prototype.hasOwnProperty.call(OFFICIAL, name);
}

/** Which file holds which split, per format. */
export function splitFiles(spec: OfficialSpec): Record<string, { images: string; labels?: string }> {
  if (spec.format === 'idx') {
    return {
      train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
      test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
    };
  }
  return { train: { images: 'train_32x32.mat' }, test: { images: 'test_32x32.mat' }, extra: { images: 'extra_32x32.mat' } };
}
