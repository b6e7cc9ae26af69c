import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACCEPTED_FORMATS,
  IMAGE_EXTENSIONS,
  imageFormatOfContentType,
  imageFormatOfFileName,
  imageFormatOfSharp,
  isImageFileName,
} from '../../src/domain/imageFormats';
import { imageKey, parseImageKey } from '../../src/domain/keys';
import { contentTypeForKey } from '../../src/ports/contentType';

describe('image formats, defined once', () => {
  it('names them for messages, in one order', () => {
    assert.equal(ACCEPTED_FORMATS, 'JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC');
    assert.deepEqual(IMAGE_EXTENSIONS, ['jpg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heic']);
  });

  it('every stored extension makes an image key and has its content type', () => {
    const id = '0190f5c2-8a3b-7c4d-9e5f-0123456789ab';
    assert.deepEqual(
      IMAGE_EXTENSIONS.map((ext) => [parseImageKey(imageKey('original', id, ext))?.ext, contentTypeForKey(`original/${id}.${ext}`)]),
      [
        ['jpg', 'image/jpeg'],
        ['png', 'image/png'],
        ['webp', 'image/webp'],
        ['gif', 'image/gif'],
        ['tiff', 'image/tiff'],
        ['avif', 'image/avif'],
        ['heic', 'image/heic'],
      ],
    );
    assert.equal(contentTypeForKey('x/a.HEIF'), 'image/heic');
    assert.equal(contentTypeForKey('x/a.JPEG'), 'image/jpeg');
    assert.equal(contentTypeForKey('x/a.tif'), 'image/tiff');
    assert.equal(contentTypeForKey('status/a/resize.json'), 'application/json');
    assert.equal(contentTypeForKey('x/a.bmp'), 'application/octet-stream');
  });

  it("maps sharp's format names: AVIF and HEIC are both sharp's heif, told apart by their compression", () => {
    assert.equal(imageFormatOfSharp('heif', 'av1')?.ext, 'avif');
    assert.equal(imageFormatOfSharp('heif', 'hevc')?.ext, 'heic');
    assert.equal(imageFormatOfSharp('heif', 'jpeg'), undefined);
    assert.equal(imageFormatOfSharp('heif'), undefined);
    assert.equal(imageFormatOfSharp('jpeg')?.contentType, 'image/jpeg');
    assert.equal(imageFormatOfSharp('svg'), undefined);
    assert.equal(imageFormatOfSharp(undefined), undefined);
  });

  it('picks image files by name, whatever the case', () => {
    assert.deepEqual(
      ['a.jpg', 'b.JPEG', 'c.tif', 'd.avif', 'e.bmp', 'notes.txt', 'jpg', '.png', 'IMG_0001.HEIC', 'f.heif'].filter(isImageFileName),
      ['a.jpg', 'b.JPEG', 'c.tif', 'd.avif', '.png', 'IMG_0001.HEIC', 'f.heif'],
    );
  });

  it('knows HEIC by both its content types and both its extensions, and stores it as .heic', () => {
    assert.equal(imageFormatOfContentType('image/heic')?.ext, 'heic');
    assert.equal(imageFormatOfContentType('Image/HEIF; q=1')?.ext, 'heic');
    assert.equal(imageFormatOfContentType('application/octet-stream'), undefined);
    assert.equal(imageFormatOfFileName('IMG_0001.HEIF')?.contentType, 'image/heic');
  });
});
