/**
 * Real camera photos of 6-20 MP for the benchmarks: 13 natural photos (landscapes, a bridge, a
 * dragonfly, a bird, dogs, a room with a bottle and a drum, a clock...) that Debian ships as
 * wallpapers in `lomiri-wallpapers-16.04` and `lomiri-wallpapers-20.04` (version 20.04.0-2; each
 * photo CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0, as the packages' copyright files say). They are fetched
 * with `apt-get download` (Debian's registry, by package name and version) into
 * .cache/bench-photos/real/<package>/ the first time the `real` class is asked for, the package and
 * each photo checked against the sha256 below (models/registry-files.ts, as the model's photos
 * are), and never committed.
 *
 * Real, but wallpapers: their JPEGs hold 0.09-0.27 bytes a pixel, where a phone's 12-24 MP photo
 * holds about 0.3 (the upscaled classes of bench/photos.ts are made to match the phone), so each
 * decodes a little faster than a phone photo of its size. Both sets are measured.
 */
import path from 'node:path';
import { ensureSourceFiles, type PhotoSource, type SourceFile } from '../models/registry-files';

type DebianSource = Extract<PhotoSource, { registry: 'debian' }>;

const debian = (pkg: string, sha256: string): DebianSource => ({
  registry: 'debian',
  package: pkg,
  version: '20.04.0-2',
  sha256,
  folder: 'usr/share/backgrounds',
  licence: 'CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0 (each photo, as the package says)',
});

/** Each package (its .deb's sha256) with the photos taken from it (each one's sha256). */
const SOURCES: Array<{ source: DebianSource; files: SourceFile[] }> = [
  {
    source: debian('lomiri-wallpapers-16.04', 'a99ff6a3bfe451e4cc0682ecb3cc82e71740626d59e4845ae34a0a0e45421eab'),
    files: [
      { name: 'Bridge_by_Sander_Klootwijk.jpg', sha256: 'bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050' },
      { name: 'Dragonfly_by_Bolly.jpg', sha256: 'af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3' },
      { name: 'Wine_by_Jakkub_Mede.jpg', sha256: 'd2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74' },
      { name: 'aitzgorri_by_Aitzol_Berasategi.jpg', sha256: '66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36' },
      { name: 'analogpattern_by_Peter_Nerlich.jpg', sha256: '15372488a192b2be2eafc67bd3ed31cbfca19abe3929e925607fcbc9cb4d4202' },
      { name: 'free_by_Peter_Nerlich.jpg', sha256: '85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373' },
      { name: 'friends_by_Aitzol_Berasategi.jpg', sha256: 'cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d' },
      { name: 'greentock_by_Peter_Nerlich.jpg', sha256: 'e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889' },
      { name: 'life_by_Aitzol_Berasategi.jpg', sha256: '4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05' },
      { name: 'picosdeeuropa_by_Aitzol_Berasategi.jpg', sha256: '414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a' },
      { name: 'seeding_by_Clements_Engelhardt.jpg', sha256: 'a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f' },
      { name: 'sunset_by_Aitzol_Berasategi.jpg', sha256: '474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18' },
    ],
  },
  {
    source: debian('lomiri-wallpapers-20.04', 'd44e89b8473aafe64a5b678f014862dc31335aaaf18665c544d985d854f1a709'),
    files: [{ name: 'Kleiber_by_Lukas_Baubkus.jpg', sha256: '6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7' }],
  },
];

/** The real photos (paths), fetched and checked once into `dir`. Throws with what to do when apt-get cannot. */
export function realPhotos(dir: string, log: (m: string) => void = () => {}): string[] {
  return SOURCES.flatMap(({ source, files }) => {
    const into = ensureSourceFiles(source, files, path.join(dir, source.package), log);
    return files.map((f) => path.join(into, f.name));
  });
}
