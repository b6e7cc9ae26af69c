/**
 * Real camera photos of 6-20 MP for the benchmarks: 13 natural photos (landscapes, a bridge, a
 * dragonfly, a bird, dogs, a room with a bottle and a drum, a clock...) that Debian ships as
 * wallpapers in `lomiri-wallpapers-16.04` and `lomiri-wallpapers-20.04` (version 20.04.0-2; each
 * photo CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0, as the packages' copyright files say). They are fetched
 * with `apt-get download` (Debian's registry, by package name and version) into
 * .cache/bench-photos/real/ the first time the `real` class is asked for, checked against the
 * sha256 below, and never committed.
 *
 * Real, but wallpapers: their JPEGs hold 0.09-0.27 bytes a pixel, where a phone's 12-24 MP photo
 * holds about 0.3 (the upscaled classes of bench/photos.ts are made to match the phone), so each
 * decodes a little faster than a phone photo of its size. Both sets are measured.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const VERSION = '20.04.0-2';
/** File name -> [package, sha256]. */
const PHOTOS: Record<string, [string, string]> = {
  'Bridge_by_Sander_Klootwijk.jpg': ['lomiri-wallpapers-16.04', 'bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050'],
  'Dragonfly_by_Bolly.jpg': ['lomiri-wallpapers-16.04', 'af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3'],
  'Wine_by_Jakkub_Mede.jpg': ['lomiri-wallpapers-16.04', 'd2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74'],
  'aitzgorri_by_Aitzol_Berasategi.jpg': ['lomiri-wallpapers-16.04', '66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36'],
  'analogpattern_by_Peter_Nerlich.jpg': ['lomiri-wallpapers-16.04', '15372488a192b2be2eafc67bd3ed31cbfca19abe3929e925607fcbc9cb4d4202'],
  'free_by_Peter_Nerlich.jpg': ['lomiri-wallpapers-16.04', '85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373'],
  'friends_by_Aitzol_Berasategi.jpg': ['lomiri-wallpapers-16.04', 'cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d'],
  'greentock_by_Peter_Nerlich.jpg': ['lomiri-wallpapers-16.04', 'e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889'],
  'life_by_Aitzol_Berasategi.jpg': ['lomiri-wallpapers-16.04', '4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05'],
  'picosdeeuropa_by_Aitzol_Berasategi.jpg': ['lomiri-wallpapers-16.04', '414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a'],
  'seeding_by_Clements_Engelhardt.jpg': ['lomiri-wallpapers-16.04', 'a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f'],
  'sunset_by_Aitzol_Berasategi.jpg': ['lomiri-wallpapers-16.04', '474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18'],
  'Kleiber_by_Lukas_Baubkus.jpg': ['lomiri-wallpapers-20.04', '6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7'],
};

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The real photos (paths), fetched and checked once into `dir`. Throws with what to do when apt-get cannot. */
export function realPhotos(dir: string, log: (m: string) => void = () => {}): string[] {
  const files = Object.keys(PHOTOS).map((name) => path.join(dir, name));
  const missing = files.filter((f) => !existsSync(f) || sha256(f) !== PHOTOS[path.basename(f)]![1]);
  if (missing.length === 0) return files;
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-real-'));
  try {
    const packages = [...new Set(Object.values(PHOTOS).map(([p]) => p))];
    log(`fetching ${packages.map((p) => `${p}=${VERSION}`).join(' ')} with apt-get download (Debian's wallpapers: real photos)…`);
    const got = spawnSync('apt-get', ['download', ...packages.map((p) => `${p}=${VERSION}`)], { cwd: work, encoding: 'utf8' });
    if (got.status !== 0) {
      throw new Error(
        `the real photos come from Debian's ${packages.join(' and ')} ${VERSION}, and \`apt-get download\` failed ` +
          `(${got.error?.message ?? got.stderr.trim()}); on Debian run \`apt-get update\` first, or leave the real class out (--classes)`,
      );
    }
    for (const deb of packages) {
      const file = spawnSync('sh', ['-c', `ls ${deb}_*.deb`], { cwd: work, encoding: 'utf8' }).stdout.trim();
      const x = spawnSync('dpkg-deb', ['-x', path.join(work, file), path.join(work, deb)], { encoding: 'utf8' });
      if (x.status !== 0) throw new Error(`dpkg-deb -x ${file} failed: ${x.stderr}`);
    }
    for (const [name, [pkg, hash]] of Object.entries(PHOTOS)) {
      const from = path.join(work, pkg, 'usr/share/backgrounds', name);
      if (!existsSync(from) || sha256(from) !== hash) throw new Error(`${pkg} ${VERSION}: ${name} is missing or not the expected file`);
      copyFileSync(from, path.join(dir, name));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}
